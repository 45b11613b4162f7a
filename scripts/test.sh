#!/usr/bin/env bash
# Runs every test: core, network, training, the QGIS algorithms through processing.run and qgis_process,
# and the accuracy dialog in a real QGIS GUI on a virtual screen (Xvfb).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/env.sh
export QT_QPA_PLATFORM=xcb
mkdir -p test-artifacts
exec xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python -m pytest "$@"
