#!/usr/bin/env bash
# Build the Linux packages: a .tar.xz (made with `fyne package`, then laid out
# so the binary sits beside the bundled ONNX Runtime) and a .deb (dpkg-deb).
# Both hold /usr/lib/m3ret/{m3ret,libonnxruntime.so.1}, a /usr/bin/m3ret link,
# the .desktop entry, the icon and the licences.
#   usage: package-linux.sh BINARY VERSION OUT_DIR
set -euo pipefail
bin=$1 version=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
ort=$(bash "$here/fetch-ort.sh" linux-x64)
fyne=${FYNE:-$(go env GOPATH)/bin/fyne}
[ -x "$fyne" ] || GOFLAGS= go install fyne.io/tools/cmd/fyne@v1.7.4
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. fyne package: the standard Linux bundle (binary, .desktop, icon).
mkdir -p "$work/fyne"
cp "$bin" "$work/fyne/m3ret"
# fyne reads the source folder (FyneApp.toml) and writes m3ret.tar.xz into
# the current one: run it in a scratch copy of the metadata it needs.
cp "$root/FyneApp.toml" "$root/go.mod" "$root/main.go" "$work/fyne/"
(cd "$work/fyne" && "$fyne" package -os linux --src . --exe m3ret --name m3ret --icon "$root/assets/icon.png" \
  --app-id io.github.m3ret.viewer --app-version "$version" --release >/dev/null)
mkdir -p "$work/fyne/x" && tar -xJf "$work/fyne/m3ret.tar.xz" -C "$work/fyne/x"

# 2. Our layout, shared by both packages (and, but for ONNX Runtime, with the
# CUDA .deb of package-linux-cuda.sh: .ci/linux-layout.sh).
# shellcheck source=.ci/linux-layout.sh
. "$here/linux-layout.sh"
stage=$work/stage
m3ret_stage_common "$stage" "$bin" "$work/fyne/x/m3ret/usr/local/share/pixmaps/io.github.m3ret.viewer.png"
install -Dm644 "$ort" "$stage/usr/lib/m3ret/libonnxruntime.so.1"
install -Dm644 "$(dirname "$ort")/onnxruntime-node.package.json" "$stage/usr/share/doc/m3ret/onnxruntime-node.package.json"

# 3. .tar.xz: the tree plus an install Makefile (PREFIX=/usr/local by default).
tarroot=$work/tar/m3ret-$version
mkdir -p "$tarroot" && cp -a "$stage/usr" "$tarroot/"
cat >"$tarroot/Makefile" <<'MK'
PREFIX ?= /usr/local
install:
	install -Dm755 usr/lib/m3ret/m3ret $(DESTDIR)$(PREFIX)/lib/m3ret/m3ret
	install -Dm644 usr/lib/m3ret/libonnxruntime.so.1 $(DESTDIR)$(PREFIX)/lib/m3ret/libonnxruntime.so.1
	mkdir -p $(DESTDIR)$(PREFIX)/bin && ln -sf ../lib/m3ret/m3ret $(DESTDIR)$(PREFIX)/bin/m3ret
	install -Dm644 usr/share/applications/io.github.m3ret.viewer.desktop $(DESTDIR)$(PREFIX)/share/applications/io.github.m3ret.viewer.desktop
	install -Dm644 usr/share/icons/hicolor/512x512/apps/io.github.m3ret.viewer.png $(DESTDIR)$(PREFIX)/share/icons/hicolor/512x512/apps/io.github.m3ret.viewer.png
	mkdir -p $(DESTDIR)$(PREFIX)/share/doc/m3ret && cp usr/share/doc/m3ret/* $(DESTDIR)$(PREFIX)/share/doc/m3ret/
uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/lib/m3ret $(DESTDIR)$(PREFIX)/bin/m3ret $(DESTDIR)$(PREFIX)/share/doc/m3ret
	rm -f $(DESTDIR)$(PREFIX)/share/applications/io.github.m3ret.viewer.desktop $(DESTDIR)$(PREFIX)/share/icons/hicolor/512x512/apps/io.github.m3ret.viewer.png
MK
# xz on every core (single-threaded it took 49 s of the 2 cores' package-test).
XZ_OPT=${XZ_OPT:--T0} tar -C "$work/tar" --owner=0 --group=0 -cJf "$out/m3ret-$version-linux-amd64.tar.xz" "m3ret-$version"

# 4. .deb
m3ret_deb "$stage" "$out/m3ret_${version}_amd64.deb" m3ret "$version" "" "clinical image-retrieval viewer"
ls -l "$out"/m3ret-"$version"-linux-amd64.tar.xz "$out"/m3ret_"$version"_amd64.deb
