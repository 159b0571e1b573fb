#!/usr/bin/env bash
# Everything CI checks: lint, types, and the whole test suite against real parts.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --dev
export PATH="$PWD/.venv/bin:$PATH"
ruff check .
ruff format --check .
lint-imports
# The type check runs beside the tests (it needs one core for a minute; the tests mostly
# wait) and its verdict is read at the end: either failing fails the check.
types_log=$(mktemp)
mypy --strict . >"$types_log" 2>&1 &
types=$!
# Four workers: the tests mostly wait on real brokers, PLCs and processes, not the CPU.
# The slowest tests are listed at the end, to see where the suite's time goes.
tests_ok=0
pytest -n "${ANDON_TEST_WORKERS:-4}" --durations=30 "$@" || tests_ok=$?
types_ok=0
wait "$types" || types_ok=$?
cat "$types_log"
rm -f "$types_log"
[ "$types_ok" -eq 0 ] && [ "$tests_ok" -eq 0 ]
