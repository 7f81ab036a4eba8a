#!/usr/bin/env bash
# Install the Debian/Ubuntu packages M3Ret Viewer needs to build and test:
# Fyne's cgo headers, Xvfb for GUI checks, ffmpeg for video, dcmtk and gdcm
# for reference DICOM decodes in tests, NumPy for the measurement calibration
# test, ONNX for the fused-model test (inference/fuse/fuse.py), Orthanc with its DICOMweb plugin (a
# real PACS for the PACS tests; its service is not started: the tests run
# their own, in a private network namespace made with iproute2 and
# util-linux's unshare), npm for fetching ONNX Runtime and sample data,
# wkhtmltopdf (its wkhtmltoimage draws the key-image note for make gui-check). Installs when root or with password-less sudo; otherwise
# prints the exact apt line and stops.
#   deps.sh --packaging          also the installer tools (mingw-w64, NSIS, wine)
#   deps.sh --packaging --check  only report (exit 1) whether those are missing
#   deps.sh --train              the training stack of `make train` (Debian's
#                                PyTorch, ONNX, nibabel, Pillow, NumPy)
set -euo pipefail
pkgs="gcc pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev xvfb xauth imagemagick ffmpeg dcmtk libgdcm-tools libopenjp2-tools time npm ca-certificates orthanc orthanc-dicomweb iproute2 util-linux python3-numpy python3-onnx wkhtmltopdf"
if [ "${1:-}" = --train ]; then
  pkgs="python3-torch python3-onnx python3-nibabel python3-pil python3-numpy"
fi
if [ "${1:-}" = --packaging ]; then
  pkgs="gcc-mingw-w64-x86-64 nsis wine wine64 xz-utils imagemagick dpkg"
  if [ "${2:-}" = --check ]; then
    for p in $pkgs; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || exit 1; done
    exit 0
  fi
fi
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# npm may come from elsewhere (nvm, nodesource): accept any working npm.
if command -v npm >/dev/null 2>&1; then missing=${missing/ npm/}; fi
[ -z "$missing" ] && exit 0
line="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" = 0 ]; then sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo"
else
  echo "Missing packages:$missing" >&2
  echo "Install them with:  sudo apt-get update && sudo $line" >&2
  exit 1
fi
echo "installing:$missing" >&2
$sudo apt-get update -qq
# Orthanc's package would start its service, listening on every interface:
# keep services from starting during the install (policy-rc.d), and make
# sure it is stopped and off afterwards. Tests start their own.
guard=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  guard=1
fi
DEBIAN_FRONTEND=noninteractive $sudo $line || { [ -z "$guard" ] || $sudo rm -f /usr/sbin/policy-rc.d; exit 1; }
[ -z "$guard" ] || $sudo rm -f /usr/sbin/policy-rc.d
if [[ "$missing" == *orthanc* ]] && command -v systemctl >/dev/null 2>&1; then
  $sudo systemctl disable --now orthanc >/dev/null 2>&1 || true
fi
