#!/usr/bin/env bash
# Build the CUDA flavour of the Linux .deb, m3ret-cuda_VERSION_amd64.deb: the
# CPU package's layout (.ci/linux-layout.sh) with ONNX Runtime taken from its
# official Linux GPU archive (onnxruntime-linux-x64-gpu-ORTVER.tgz, the version
# .ci/ort-gpu.sha256 pins) instead of the CPU-only npm build. The npm
# build has no CUDA provider and no registry reachable from the dev machines
# serves one, so the release workflow downloads the archive (it runs where the
# internet is) and this script only ever reads a local file: `make
# package-cuda-check` runs it here on a stand-in archive.
#
# /usr/lib/m3ret/ gets, beside the binary (where the runtime looks first after
# --ort-lib and $M3RET_ORT_LIB): libonnxruntime.so.ORTVER (the real file) and
# its soname link libonnxruntime.so.1, and libonnxruntime_providers_shared.so,
# _cuda.so and _tensorrt.so (ORT loads them from its own folder). The CUDA,
# cuDNN and TensorRT user-space libraries are not packaged nor depended on:
# the README says what to install.
#
#   usage: package-linux-cuda.sh ARCHIVE BINARY VERSION OUT_DIR
#          package-linux-cuda.sh --url        print the official archive's URL
#          package-linux-cuda.sh --version    print the GPU archive's ORT version
#          package-linux-cuda.sh --check-pin  fail unless the archive's sha256 is pinned
# The archive's name (so its version) and sha256 are pinned in
# .ci/ort-gpu.sha256 (how to pin: that file). Its version may differ from the
# npm build's (.ci/fetch-ort.sh) in the patch number only: both must offer the
# C API the Go binding is built for (1.24: API 24). ORT_GPU_PIN names another
# pin file and ORT_GPU_SHA256 overrides the sum (both for the layout check and
# for trying another archive by hand).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
die() { echo "package-linux-cuda: $*" >&2; exit 1; }

# The GPU archive's version is the pin's; it must have the C API level
# (major.minor) of the npm build the CPU packages carry, which the binary is
# built and tested against.
cpu_version=$(sed -n 's/^version=//p' "$here/fetch-ort.sh")
[ -n "$cpu_version" ] || die "no version= line in $here/fetch-ort.sh"
pin=${ORT_GPU_PIN:-$here/ort-gpu.sha256}
[ -f "$pin" ] || die "no pin file $pin"
read -r pin_sum pin_file < <(grep -Ev '^[[:space:]]*(#|$)' "$pin" | head -1) || true
[[ ${pin_file:-} =~ ^onnxruntime-linux-x64-gpu-([0-9]+\.[0-9]+)\.[0-9]+\.tgz$ ]] ||
  die "$pin pins '${pin_file:-nothing}', not an onnxruntime-linux-x64-gpu-X.Y.Z.tgz"
[ "${BASH_REMATCH[1]}" = "${cpu_version%.*}" ] ||
  die "$pin pins $pin_file, not ONNX Runtime ${cpu_version%.*}.x (the C API of the npm build, $cpu_version, in .ci/fetch-ort.sh): re-pin it (see that file)"
name=${pin_file%.tgz}
ort_version=${name#onnxruntime-linux-x64-gpu-}
url=https://github.com/microsoft/onnxruntime/releases/download/v$ort_version/$name.tgz

# pinned_sum: the sum the pin file gives for $name.tgz. Refuses the UNPINNED
# placeholder (nobody has checked a download yet).
pinned_sum() {
  local sum=$pin_sum
  [ "$sum" != UNPINNED ] ||
    die "$pin says UNPINNED: download $url once, run sha256sum on it and put the sum in place of UNPINNED"
  [[ $sum =~ ^[0-9a-f]{64}$ ]] || die "$pin: '$sum' is not a sha256"
  echo "$sum"
}

case "${1:-}" in
  --url) echo "$url"; exit 0 ;;
  --version) echo "$ort_version"; exit 0 ;;
  --check-pin) sum=$(pinned_sum); echo "package-linux-cuda: $name.tgz pinned at $sum"; exit 0 ;;
esac
[ $# -eq 4 ] || die "usage: package-linux-cuda.sh ARCHIVE BINARY VERSION OUT_DIR (or --url, --version, --check-pin)"
archive=$1 bin=$2 version=$3 out=$4
[ -f "$archive" ] || die "no archive $archive (download $url)"

# 1. The checksum, before anything reads the archive.
if [ -n "${ORT_GPU_SHA256:-}" ]; then
  want=$ORT_GPU_SHA256
  [[ $want =~ ^[0-9a-f]{64}$ ]] || die "ORT_GPU_SHA256='$want' is not a sha256"
else
  want=$(pinned_sum)
fi
got=$(sha256sum "$archive" | cut -d' ' -f1)
[ "$got" = "$want" ] || die "sha256 mismatch, refusing $archive: it is $got, the pin says $want"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xzf "$archive" -C "$work"
lib=$work/$name/lib
[ -d "$lib" ] || die "$archive has no $name/lib/: not ONNX Runtime $ort_version's Linux GPU archive"

# 2. The layout: the CPU package's, with the GPU build of ORT.
# shellcheck source=.ci/linux-layout.sh
. "$here/linux-layout.sh"
stage=$work/stage
dest=$stage/usr/lib/m3ret
m3ret_stage_common "$stage" "$bin" "$root/assets/icon.png" # fyne package copies this icon unchanged for the CPU packages
real=$lib/libonnxruntime.so.$ort_version
if [ ! -f "$real" ] || [ -L "$real" ]; then die "$archive has no $name/lib/libonnxruntime.so.$ort_version (the real file)"; fi
install -Dm644 "$real" "$dest/libonnxruntime.so.$ort_version"
# The runtime opens libonnxruntime.so.1 (the soname); keep the real file under
# its versioned name as the archive does, so the link says which ORT it is.
ln -s "libonnxruntime.so.$ort_version" "$dest/libonnxruntime.so.1"
# _shared is what every provider library links against; without _cuda this
# would be the CPU package under another name.
for p in shared cuda; do
  [ -f "$lib/libonnxruntime_providers_$p.so" ] || die "$archive has no $name/lib/libonnxruntime_providers_$p.so"
  install -m644 "$lib/libonnxruntime_providers_$p.so" "$dest/"
done
# TensorRT is optional: without it the runtime lists TensorRT as unavailable
# and uses CUDA.
if [ -f "$lib/libonnxruntime_providers_tensorrt.so" ]; then
  install -m644 "$lib/libonnxruntime_providers_tensorrt.so" "$dest/"
  providers="CUDA and TensorRT"
else
  echo "package-linux-cuda: $archive has no libonnxruntime_providers_tensorrt.so: the package offers CUDA, not TensorRT" >&2
  providers="CUDA"
fi
# ORT's licence (MIT: its notice must travel with it) and its notices.
doc=$stage/usr/share/doc/m3ret
[ -f "$work/$name/LICENSE" ] || die "$archive has no $name/LICENSE"
install -m644 "$work/$name/LICENSE" "$doc/onnxruntime-LICENSE"
if [ -f "$work/$name/ThirdPartyNotices.txt" ]; then
  install -m644 "$work/$name/ThirdPartyNotices.txt" "$doc/onnxruntime-ThirdPartyNotices.txt"
fi

# 3. .deb: replaces the CPU package (same files) and satisfies anything that
# depends on it; Depends as the CPU package's (see linux-layout.sh).
mkdir -p "$out"
deb=$out/m3ret-cuda_${version}_amd64.deb
m3ret_deb "$stage" "$deb" m3ret-cuda "$version" "Provides: m3ret (= $version)
Conflicts: m3ret
Replaces: m3ret" "clinical image-retrieval viewer (NVIDIA CUDA build)" " .
 This build carries ONNX Runtime $ort_version's GPU release with its $providers
 providers. It uses an NVIDIA GPU when the driver, the CUDA 12 runtime
 libraries and cuDNN 9 (and TensorRT 10 for TensorRT) are installed and on
 the library path; they are not package dependencies. Without them it runs on
 the CPU. \`m3ret info\` lists the providers it can use."
ls -l "$deb"
