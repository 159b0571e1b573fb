#!/usr/bin/env bash
# Run the demo plant: broker, hub, two lines with their edge agents and simulated PLCs, a
# serial button box and scanner, a notification receiver and a scenario. Ctrl-C stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --demo
exec .venv/bin/andon demo "$@"
