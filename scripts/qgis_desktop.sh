#!/usr/bin/env bash
# The QGIS desktop for developers: the plugin from this checkout and the project's venv (torch, rasterio,
# onnxruntime), on the real screen. Not offscreen: env.sh's QT_QPA_PLATFORM=offscreen is for qgis_process, and a
# desktop started with it has no window and crashes.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
if [ "${QT_QPA_PLATFORM:-}" = "offscreen" ]; then
  unset QT_QPA_PLATFORM  # Qt picks xcb or wayland from the session
fi
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "No screen (DISPLAY or WAYLAND_DISPLAY) here: run this in a desktop session, or under xvfb-run." >&2
  exit 1
fi
# Extra arguments go to QGIS (e.g. --profile NAME, a project file).
exec qgis "$@"
