# shellcheck shell=bash
# The Linux package layout, shared by the CPU packages (package-linux.sh) and
# the CUDA .deb (package-linux-cuda.sh) so the two cannot drift apart: only
# the ONNX Runtime files in /usr/lib/m3ret/ and the control fields differ.
# Sourced, not run.

# What both .debs depend on. The CUDA flavour adds nothing: the NVIDIA
# user-space libraries are not Debian packages everywhere (NVIDIA's own
# repositories name them per CUDA release), so the README lists them instead.
M3RET_DEB_DEPENDS="libc6 (>= 2.34), libgl1, libx11-6, libxcursor1, libxrandr2, libxinerama1, libxi6, libxxf86vm1, ffmpeg"

# m3ret_stage_common STAGE BINARY ICON: everything but ONNX Runtime. The
# binary lives in the private folder /usr/lib/m3ret/ (the runtime looks for
# libonnxruntime.so.1 beside the executable) with a /usr/bin link.
m3ret_stage_common() {
  local stage=$1 bin=$2 icon=$3 root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  install -Dm755 "$bin" "$stage/usr/lib/m3ret/m3ret"
  mkdir -p "$stage/usr/bin" && ln -s ../lib/m3ret/m3ret "$stage/usr/bin/m3ret"
  install -Dm644 "$root/assets/packaging/m3ret.desktop" "$stage/usr/share/applications/io.github.m3ret.viewer.desktop"
  install -Dm644 "$icon" "$stage/usr/share/icons/hicolor/512x512/apps/io.github.m3ret.viewer.png"
  local doc=$stage/usr/share/doc/m3ret
  install -Dm644 "$root/LICENSE" "$doc/copyright"
  install -Dm644 "$root/assets/packaging/THIRD_PARTY_NOTICES.md" "$doc/THIRD_PARTY_NOTICES.md"
}

# m3ret_deb STAGE OUT_FILE PACKAGE VERSION EXTRA_FIELDS SUMMARY [PARAGRAPH]:
# write DEBIAN/control (EXTRA_FIELDS: more "Field: value" lines, may be
# empty) and build the .deb. M3RET_DEB_COMPRESS (default xz) lets a layout
# check skip the slow compression; released packages use xz.
m3ret_deb() {
  local stage=$1 out=$2 package=$3 version=$4 extra=$5 summary=$6 more=${7:-} size
  mkdir -p "$stage/DEBIAN"
  size=$(du -sk "$stage/usr" | cut -f1)
  {
    echo "Package: $package"
    echo "Version: $version"
    echo "Architecture: amd64"
    echo "Maintainer: M3Ret Viewer developers <m3ret@users.noreply.github.com>"
    echo "Installed-Size: $size"
    echo "Depends: $M3RET_DEB_DEPENDS"
    [ -z "$extra" ] || printf '%s\n' "$extra"
    echo "Recommends: dcmtk"
    echo "Section: science"
    echo "Priority: optional"
    echo "Homepage: https://github.com/m3ret/viewer"
    echo "Description: $summary"
    echo " Drop a DICOM series, a NIfTI volume, a video or an image on M3Ret Viewer and"
    echo " it shows the most similar cases from your local library, side by side. One"
    echo " on-device encoder embeds images, volumes and videos into one space; ONNX"
    echo " Runtime and the default model are included. Nothing leaves the machine."
    [ -z "$more" ] || printf '%s\n' "$more"
  } >"$stage/DEBIAN/control"
  dpkg-deb --root-owner-group "-Z${M3RET_DEB_COMPRESS:-xz}" --build "$stage" "$out" >/dev/null
}
