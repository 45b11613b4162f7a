#!/usr/bin/env bash
# README's two commands on Debian 13 (trixie: QGIS 3.40, Python 3.13, numpy 2), in a debootstrap root on this
# machine: setup.sh with the inference requirements (classify on the sample scene through qgis_process), then the
# classify, accuracy and environment tests, the desktop install test (the plugin ZIP, the installer and classify in
# a fresh QGIS 3.40 desktop) and the dock's screenshot test. Needs root and Debian's mirror and PyPI. The root is
# kept in $CSAGF_TRIXIE_ROOT (default /var/tmp/csagf-trixie), so a second run skips debootstrap and apt downloads.
# The committed tree (git archive HEAD) is what is tested.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="${CSAGF_TRIXIE_ROOT:-/var/tmp/csagf-trixie}"
MIRROR="${CSAGF_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
[ "$(id -u)" -eq 0 ] || { echo "check_debian13.sh needs root (debootstrap, chroot, mount)" >&2; exit 1; }
command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null

if [ ! -x "$ROOT/usr/bin/apt-get" ]; then
  echo "== debootstrap trixie into $ROOT"
  debootstrap --variant=minbase --include=ca-certificates trixie "$ROOT" "$MIRROR"
fi
# pip inside the root trusts what this machine trusts (a proxy's CA included)
cp /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/ca-certificates.crt"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
printf '#!/bin/sh\nexit 101\n' > "$ROOT/usr/sbin/policy-rc.d" && chmod +x "$ROOT/usr/sbin/policy-rc.d"

mounted=()
cleanup() { for ((i=${#mounted[@]}-1; i>=0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done; }
trap cleanup EXIT
for fs in proc dev dev/pts; do
  mountpoint -q "$ROOT/$fs" || { mount --bind "/$fs" "$ROOT/$fs"; mounted+=("$ROOT/$fs"); }
done

rm -rf "$ROOT/work/csagf" && mkdir -p "$ROOT/work/csagf"
git archive HEAD | tar -x -C "$ROOT/work/csagf"
make -s package >/dev/null && mkdir -p "$ROOT/work/csagf/build" && cp build/csagf.zip "$ROOT/work/csagf/build/"
chroot "$ROOT" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  LANG=C.UTF-8 PIP_CERT=/etc/ssl/certs/ca-certificates.crt PIP_DISABLE_PIP_VERSION_CHECK=1 \
  bash -c 'cd /work/csagf && CSAGF_REQUIREMENTS=requirements-inference.txt ./scripts/setup.sh &&
           ./scripts/test.sh -q -p no:cacheprovider tests/processing/test_classify_algorithm.py \
             tests/processing/test_accuracy_algorithms.py tests/core/accuracy tests/environment \
             tests/processing/test_provider_without_packages.py tests/processing/test_environment_algorithms.py \
             tests/desktop tests/gui/test_dock_layout.py tests/processing/test_fields.py'
