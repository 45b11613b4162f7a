#!/usr/bin/env bash
# One command for a fresh Debian 12 (QGIS 3.22) or Debian 13 (QGIS 3.40): QGIS from Debian, the project's venv,
# the plugin enabled for qgis_process, then the main job on the bundled sample scene. Idempotent: a second run skips what is already there.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

need_apt=""
for pkg in qgis python3-qgis python3-venv xvfb make zip; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt="$need_apt $pkg"
done
if [ -n "$need_apt" ]; then
  echo "== installing Debian packages:$need_apt"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need_apt >/dev/null
fi

# requirements.txt: everything (torch for training); CSAGF_REQUIREMENTS=requirements-inference.txt: classify and the
# accuracy tools only. Environment markers pick numpy 1 for Python 3.11 (QGIS 3.22) and numpy 2 for 3.13 (QGIS 3.40).
requirements="${CSAGF_REQUIREMENTS:-requirements.txt}"
stamp=.venv/.requirements.sha1
want="$(cat "$requirements" | sha1sum | cut -d' ' -f1) $requirements"
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "== creating the venv from $requirements (with torch: a few minutes the first time)"
  [ -x .venv/bin/python ] || /usr/bin/python3 -m venv --system-site-packages .venv
  .venv/bin/pip install -q -r "$requirements"
  echo "$want" > "$stamp"
fi

echo "== enabling the plugin for qgis_process"
mkdir -p build/plugins
ln -sfn "$(pwd)" build/plugins/csagf
scripts/qgis_process.sh plugins enable csagf >/dev/null 2>&1 || true
scripts/qgis_process.sh list 2>/dev/null | grep -q "csagf:classify" || {
  echo "The CSAGF provider did not load in qgis_process; details:" >&2
  scripts/qgis_process.sh plugins >&2 || true
  exit 1
}

mkdir -p "$HOME/.local/share/QGIS/QGIS3/profiles/default/python/plugins"
ln -sfn "$(pwd)" "$HOME/.local/share/QGIS/QGIS3/profiles/default/python/plugins/csagf"  # for QGIS desktop

echo "== main job: classify the bundled sample scene"
scripts/run_sample.sh
