#!/usr/bin/env bash
# qgis_process with the plugin and the venv. Debian's /usr/bin/qgis_process wrapper passes --noversioncheck,
# which QGIS 3.22 refuses, so the real binary is called.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
exec qgis_process.bin "$@"
