#!/usr/bin/env bash
# Everything CI checks: lint, types, and the whole test suite against real parts.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --dev
export PATH="$PWD/.venv/bin:$PATH"
ruff check .
ruff format --check .
mypy --strict .
lint-imports
# Three workers: the tests mostly wait on real brokers, PLCs and processes, not the CPU.
pytest -n "${ANDON_TEST_WORKERS:-3}" "$@"
