#!/usr/bin/env bash
# Install what the product needs on a Debian or Ubuntu machine, and a Python virtual
# environment in .venv with the project in it. Safe to run again: it installs only what
# is missing.
#
#   scripts/bootstrap.sh          what a hub or an edge runs on: Python's venv and the
#                                 project's own dependencies (the install guide's step)
#   scripts/bootstrap.sh --demo   and Mosquitto and socat, for the demo plant
#   scripts/bootstrap.sh --dev    and everything the tests start: PostgreSQL, Chromium
#                                 (the pages' browser tests), VictoriaMetrics, systemd's
#                                 and openssl's tools, and the test and lint tools
#
# The tests start PostgreSQL themselves (initdb in a temporary directory, see
# testbed/postgres.py); they never use or stop the cluster the Debian package may create.
set -euo pipefail
cd "$(dirname "$0")/.."

kind=run
case "${1:-}" in
  "") ;;
  --demo) kind=demo ;;
  --dev) kind=dev ;;
  *) echo "usage: $0 [--demo | --dev]" >&2; exit 2 ;;
esac

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
python3 -c "import venv, ensurepip" >/dev/null 2>&1 || missing+=(python3-venv)
if [ "$kind" != run ]; then
  command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
  command -v socat >/dev/null 2>&1 || missing+=(socat)
fi
if [ "$kind" = dev ]; then
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
  # The pages' browser tests drive Debian's chromium; the CJK fonts draw the Chinese pages.
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -d /usr/share/fonts/opentype/noto ] || missing+=(fonts-noto-cjk)
  # The deployment tests: unit files checked offline, test certificates, a time-series database.
  command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  # Compiles Eclipse Tahu's sparkplug_b.proto in the test of the generated code.
  command -v protoc >/dev/null 2>&1 || missing+=(protobuf-compiler)
  # The sign-in tests: a real OpenLDAP directory (slapd) and its ldapadd.
  [ -x /usr/sbin/slapd ] || missing+=(slapd)
  command -v ldapadd >/dev/null 2>&1 || missing+=(ldap-utils)
  command -v victoria-metrics >/dev/null 2>&1 || [ -x /usr/bin/victoria-metrics ] || missing+=(victoria-metrics)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# The test and lint tools only where the tests run; the demo's HTTP client for the demo.
case "$kind" in
  dev) target='.[dev,demo]' stamp=.venv/.installed-dev ;;
  demo) target='.[demo]' stamp=.venv/.installed-demo ;;
  *) target=. stamp=.venv/.installed ;;
esac
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e "$target"
  touch "$stamp"
fi
if [ "$kind" = dev ] && [ ! -x .venv-sparkplug/bin/python ]; then
  # The independent Sparkplug B implementation the tests talk to (pysparkplug) pins
  # paho-mqtt below 2, which aiomqtt cannot run on: it gets a venv of its own, and the
  # tests run it as a separate process (tests/sparkplug_peer.py).
  python3 -m venv .venv-sparkplug
  .venv-sparkplug/bin/python -m pip install -q 'pysparkplug==0.6.1'
fi
