#!/usr/bin/env bash
# Install what the product needs on a Debian or Ubuntu machine: Mosquitto, socat,
# PostgreSQL and Chromium (for the pages' browser tests) from the distribution, and a
# Python virtual environment in .venv with the project in it. Safe to run again: it
# installs only what is missing.
# The tests start PostgreSQL themselves (initdb in a temporary directory, see
# andon/postgres.py); they never use or stop the cluster the Debian package may create.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v socat >/dev/null 2>&1 || missing+=(socat)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
python3 -c "import venv, ensurepip" >/dev/null 2>&1 || missing+=(python3-venv)
# The pages' browser tests drive Debian's chromium; the CJK fonts draw the Chinese pages.
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -d /usr/share/fonts/opentype/noto ] || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  touch "$stamp"
fi
