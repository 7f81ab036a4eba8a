#!/usr/bin/env bash
# Cross-compile M3Ret Viewer for Windows x64 (cgo for Fyne through Debian's
# mingw-w64) and build a per-user NSIS installer bundling onnxruntime.dll,
# DirectML.dll and the DirectX shader compiler from onnxruntime-node.
#   usage: package-windows.sh VERSION OUT_DIR
set -euo pipefail
version=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
for tool in x86_64-w64-mingw32-gcc makensis convert; do
  command -v "$tool" >/dev/null || { echo "package-windows: $tool missing (apt-get install gcc-mingw-w64-x86-64 nsis imagemagick)" >&2; exit 1; }
done
ort=$(bash "$here/fetch-ort.sh" win32-x64)
mkdir -p "$out"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
# The Windows resource (icon, version) is linked in by fyne's build when
# FyneApp.toml is present; -H windowsgui: no console window for the GUI.
(cd "$root" && CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc \
  go build -trimpath -ldflags "-X github.com/m3ret/viewer/app.Version=$version -s -w -H windowsgui" -o "$stage/m3ret.exe" .)
for f in onnxruntime.dll DirectML.dll dxcompiler.dll dxil.dll onnxruntime-node.package.json; do
  cp "$(dirname "$ort")/$f" "$stage/"
done
convert "$root/assets/icon.png" -define icon:auto-resize=256,128,64,48,32,16 "$stage/m3ret.ico"
sed 's/$/\r/' "$root/LICENSE" >"$stage/LICENSE.txt"
cp "$root/assets/packaging/THIRD_PARTY_NOTICES.md" "$stage/"
makensis -V2 -DVERSION="$version" -DSTAGE="$stage" -DOUTFILE="$(cd "$out" && pwd)/m3ret-$version-windows-amd64-setup.exe" \
  "$root/assets/packaging/installer.nsi"
ls -l "$out/m3ret-$version-windows-amd64-setup.exe"
