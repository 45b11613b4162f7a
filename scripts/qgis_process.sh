#!/usr/bin/env bash
# qgis_process with the plugin and the venv. Debian's /usr/bin/qgis_process wrapper passes --noversioncheck,
# which QGIS 3.22 refuses, so the real binary is called.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
# QGIS 3.40 (Debian 13) takes the wrapper's option; use the wrapper where there is no .bin.
if command -v qgis_process.bin >/dev/null 2>&1; then
  exec qgis_process.bin "$@"
fi
exec qgis_process "$@"
