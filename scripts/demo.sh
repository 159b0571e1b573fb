#!/usr/bin/env bash
# Run the demo plant: broker, simulated PLC, hub and one edge agent. Ctrl-C stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/andon demo "$@"
