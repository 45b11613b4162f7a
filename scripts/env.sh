# Environment for running QGIS headless with the plugin and the project's venv. Source it: `. scripts/env.sh`.
# Headless only (offscreen platform): for the QGIS desktop with the venv use scripts/qgis_desktop.sh.
CSAGF_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CSAGF_ROOT
export CSAGF_VENV="${CSAGF_VENV:-$CSAGF_ROOT/.venv}"
# qgis_process finds the plugin in this folder (build/plugins/csagf -> the repository root).
export QGIS_PLUGINPATH="$CSAGF_ROOT/build/plugins"
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/runtime-$(id -u)}"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
_site="$("$CSAGF_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' 2>/dev/null)"
# torch, rasterio and onnxruntime come from the venv; QGIS's own Python modules from Debian.
export PYTHONPATH="$CSAGF_ROOT:$_site:/usr/share/qgis/python/plugins${PYTHONPATH:+:$PYTHONPATH}"
unset _site
