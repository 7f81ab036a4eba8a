#!/usr/bin/env bash
# Fetch the ONNX Runtime shared library from the npm package onnxruntime-node
# (pinned version and sha256) into the user cache and print its path.
# Uses `npm pack` + tar, never `npm install` (its install script downloads from
# a host that is not reachable). Reuses the cache on the next run.
#   usage: fetch-ort.sh [linux-x64|linux-arm64|darwin-arm64|win32-x64]
set -euo pipefail
version=1.24.3
tgz_sha=aa1bb5fa261ea68de05dd53efbba210cd7adf2d2850f4c3a201054c74cc78040
platform=${1:-}
if [ -z "$platform" ]; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) platform=linux-x64 ;;
    Linux-aarch64) platform=linux-arm64 ;;
    Darwin-arm64) platform=darwin-arm64 ;;
    *) echo "fetch-ort: no onnxruntime-node library for $(uname -s)-$(uname -m)" >&2; exit 1 ;;
  esac
fi
case "$platform" in
  linux-*) files="libonnxruntime.so.1" ;;
  darwin-arm64) files="libonnxruntime.$version.dylib" ;;
  win32-*) files="onnxruntime.dll DirectML.dll dxcompiler.dll dxil.dll" ;;
  *) echo "fetch-ort: unknown platform $platform" >&2; exit 1 ;;
esac
cache=${XDG_CACHE_HOME:-$HOME/.cache}/m3ret/ort/$version/$platform
first=${files%% *}
if [ -f "$cache/$first" ] && [ -f "$cache/.complete" ]; then echo "$cache/$first"; exit 0; fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "onnxruntime-node@$version" >/dev/null)
echo "$tgz_sha  $tmp/onnxruntime-node-$version.tgz" | sha256sum --quiet -c -
dir="package/bin/napi-v6/${platform%-*}/${platform#*-}"
members=""
for f in $files; do members="$members $dir/$f"; done
# The package ships no LICENSE file; its package.json declares MIT.
# shellcheck disable=SC2086
tar -xzf "$tmp/onnxruntime-node-$version.tgz" -C "$tmp" $members package/package.json
mkdir -p "$cache"
for f in $files; do cp "$tmp/$dir/$f" "$cache/$f"; done
cp "$tmp/package/package.json" "$cache/onnxruntime-node.package.json"
touch "$cache/.complete"
echo "$cache/$first"
