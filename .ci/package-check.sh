#!/usr/bin/env bash
# Smoke-test the packages in DIST: the .deb unpacked into a scratch root
# (dpkg -x) runs `m3ret info --json` with only its bundled ONNX Runtime; the
# Windows installer installs silently under wine (per user) and its
# m3ret.exe runs `info --json` with the bundled onnxruntime.dll, DirectML
# falling back to CPU. A part whose tools are missing is skipped with a
# message; M3RET_REQUIRE_PACKAGING=1 makes that a failure.
#   usage: package-check.sh DIST VERSION
set -euo pipefail
dist=$1 version=$2
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d)
cleanup() {
  if [ -n "${WINEPREFIX:-}" ] && command -v wineserver >/dev/null; then wineserver -k 2>/dev/null || true; wineserver -w 2>/dev/null || true; fi
  rm -rf "$scratch" 2>/dev/null || true
}
trap cleanup EXIT
skip() {
  if [ "${M3RET_REQUIRE_PACKAGING:-0}" = 1 ]; then echo "package-check: $1" >&2; exit 1; fi
  echo "package-check: SKIP $1" >&2
}
# json FIELD FILE: a top-level-ish string field from `info --json`.
json() { sed -n "s/.*\"$1\": \"\\(.*\\)\".*/\\1/p" "$2" | head -1; }

deb=$dist/m3ret_${version}_amd64.deb
if [ -f "$deb" ]; then
  info=$(dpkg-deb --info "$deb"); [[ $info == *"Depends:"*ffmpeg* ]] || { echo "package-check: .deb Depends lacks ffmpeg" >&2; exit 1; }
  dpkg -x "$deb" "$scratch/root"
  start=$(date +%s.%N)
  env -i PATH=/usr/bin:/bin HOME="$scratch/home" "$scratch/root/usr/bin/m3ret" info --json \
    --library "$scratch/lib" >"$scratch/deb.json" 2>"$scratch/deb.err" || { cat "$scratch/deb.err" >&2; exit 1; }
  end=$(date +%s.%N)
  lib=$(json library "$scratch/deb.json")
  [ "$lib" = "$scratch/root/usr/lib/m3ret/libonnxruntime.so.1" ] || { echo "package-check: .deb used ORT at $lib" >&2; exit 1; }
  grep -q "\"version\": \"$version\"" "$scratch/deb.json" || { echo "package-check: .deb reports another version" >&2; exit 1; }
  echo "package-check: .deb ok (ORT $(json ort_version "$scratch/deb.json") from the package, info in $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.2f", b-a}') s)"
else
  skip "no $deb (run make package-linux)"
fi

setup=$dist/m3ret-$version-windows-amd64-setup.exe
if [ ! -f "$setup" ]; then
  skip "no $setup (run make package-windows)"
elif ! command -v wine >/dev/null; then
  skip "wine not installed"
else
  export WINEPREFIX=$scratch/wine WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
  wineboot -i >/dev/null 2>&1 || true
  # Wine 8 lacks bcryptprimitives.dll (ProcessPrng), which the Go runtime
  # loads from system32 on every Windows 10+: add a shim for the test only.
  x86_64-w64-mingw32-gcc -shared -O2 -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
    "$here/wine/bcryptprimitives.c" -ladvapi32
  wine "$setup" /S >/dev/null 2>&1
  exe=$(find "$WINEPREFIX/drive_c/users" -path "*M3Ret Viewer/m3ret.exe" | head -1)
  [ -n "$exe" ] || { echo "package-check: the installer installed no m3ret.exe" >&2; exit 1; }
  [ -n "$(find "$WINEPREFIX/drive_c/users" -name 'M3Ret Viewer.lnk' | head -1)" ] || { echo "package-check: no Start-menu shortcut" >&2; exit 1; }
  [ -f "$(dirname "$exe")/uninstall.exe" ] || { echo "package-check: no uninstaller" >&2; exit 1; }
  start=$(date +%s.%N)
  wine "$exe" info --json --library 'C:\m3ret-check' >"$scratch/win.json" 2>"$scratch/win.err" || { cat "$scratch/win.err" >&2; exit 1; }
  end=$(date +%s.%N)
  grep -q '"provider": "CPU"' "$scratch/win.json" && grep -q '"DIRECTML"' "$scratch/win.json" || { cat "$scratch/win.json" >&2; exit 1; }
  case "$(json library "$scratch/win.json")" in
    *'M3Ret Viewer\\onnxruntime.dll') ;;
    *) echo "package-check: m3ret.exe used ORT at $(json library "$scratch/win.json")" >&2; exit 1 ;;
  esac
  echo "package-check: windows installer ok (ORT $(json ort_version "$scratch/win.json"), CPU after DirectML, info in $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.2f", b-a}') s under wine)"
  wine "$(dirname "$exe")/uninstall.exe" /S >/dev/null 2>&1 || true
fi
exit 0
