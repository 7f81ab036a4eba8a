#!/usr/bin/env bash
# Build the macOS arm64 app: `fyne package -os darwin` makes M3Ret Viewer.app,
# ONNX Runtime from onnxruntime-node darwin-arm64 goes beside the executable
# in Contents/MacOS (where the app looks first), and hdiutil wraps it in a
# .dmg. Runs on macOS only (the release workflow's macos job).
# onnxruntime-node ships no darwin-x64 library: Intel Macs need ONNX
# Runtime's own osx-x86_64 release (1.24 or newer), chosen with --ort-lib
# or the ort_lib setting.
#   usage: package-darwin.sh VERSION OUT_DIR
set -euo pipefail
version=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
[ "$(uname -s)-$(uname -m)" = Darwin-arm64 ] || { echo "package-darwin: needs an Apple-silicon Mac (found $(uname -s)-$(uname -m))" >&2; exit 1; }
ort=$(bash "$here/fetch-ort.sh" darwin-arm64)
fyne=${FYNE:-$(go env GOPATH)/bin/fyne}
[ -x "$fyne" ] || GOFLAGS= go install fyne.io/tools/cmd/fyne@v1.7.4
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$root" && go build -ldflags "-X github.com/m3ret/viewer/app.Version=$version -s -w" -o "$work/m3ret" .)
cp "$root/FyneApp.toml" "$root/go.mod" "$root/main.go" "$work/"
(cd "$work" && "$fyne" package -os darwin --src . --exe m3ret --name "M3Ret Viewer" --icon "$root/assets/icon.png" \
  --app-id io.github.m3ret.viewer --app-version "$version" --release)
app="$work/M3Ret Viewer.app"
cp "$ort" "$app/Contents/MacOS/"
mkdir -p "$app/Contents/Resources/licences"
cp "$root/LICENSE" "$root/assets/packaging/THIRD_PARTY_NOTICES.md" "$(dirname "$ort")/onnxruntime-node.package.json" \
  "$app/Contents/Resources/licences/"
codesign --force --deep --sign - "$app" 2>/dev/null || true # ad-hoc: Gatekeeper still asks once
hdiutil create -volname "M3Ret Viewer" -srcfolder "$app" -ov -format UDZO "$out/m3ret-$version-macos-arm64.dmg"
ls -l "$out/m3ret-$version-macos-arm64.dmg"
