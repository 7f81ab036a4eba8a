#!/usr/bin/env bash
# Test the CUDA .deb's layout logic (.ci/package-linux-cuda.sh) without the
# internet and without a GPU: a STAND-IN for ONNX Runtime's official
# onnxruntime-linux-x64-gpu-ORTVER.tgz is built from the CPU library the
# set-up fetched (npm), with the archive's directory structure and links and
# stub provider libraries (ELF shared objects with no ORT entry points, marked
# "M3RET STAND-IN"), under the name and version .ci/ort-gpu.sha256 pins.
# Nothing here is ever packaged for release: the .debs go to a scratch
# folder. Asserts: the committed pin is a real sum for a version of the npm
# build's C API; a wrong checksum, the UNPINNED placeholder and pins for
# another C API or of another shape are refused; the file list (binary, the real ORT
# library and its soname link, the three provider libraries, all in
# /usr/lib/m3ret/; else the CPU .deb's files when DIST has one); the control
# fields; that the packaged binary runs `m3ret info` from an unpacked root
# with the library beside it (CPU in use, ORT looking for the CUDA provider in
# that folder); and that an archive without the TensorRT provider still
# packages, without it. When DIST holds m3ret-cuda_VERSION_amd64.deb (the
# release built it from the real archive) that one gets the same checks; with
# M3RET_REQUIRE_CUDA_DEB=1 (release.yml) it must be there.
#   usage: package-cuda-check.sh BINARY VERSION [DIST]
set -euo pipefail
bin=$1 version=$2 dist=${3:-build/dist}
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "package-cuda-check: $*" >&2; exit 1; }
start=$(date +%s.%N)
cpu_version=$(sed -n 's/^version=//p' "$here/fetch-ort.sh")
cpu_lib=$(bash "$here/fetch-ort.sh" linux-x64)
unset ORT_GPU_SHA256 ORT_GPU_PIN
# The committed pin: pinned, for the npm build's C API (the script refuses
# anything else), and the version every check below uses.
"$here/package-linux-cuda.sh" --check-pin >/dev/null || fail "the committed pin (.ci/ort-gpu.sha256) is refused"
ort_version=$("$here/package-linux-cuda.sh" --version)
[ "${ort_version%.*}" = "${cpu_version%.*}" ] || fail "GPU ORT $ort_version, npm ORT $cpu_version: not one C API"
name=onnxruntime-linux-x64-gpu-$ort_version
s=$(mktemp -d)
trap 'rm -rf "$s"' EXIT
export M3RET_DEB_COMPRESS=none # layout, not compression, is under test

# standin DIR [no-tensorrt]: DIR/$name.tgz shaped like the official archive.
standin() {
  local d=$1/$name p
  mkdir -p "$d/lib" "$d/include"
  cp "$cpu_lib" "$d/lib/libonnxruntime.so.$ort_version"
  ln -s "libonnxruntime.so.$ort_version" "$d/lib/libonnxruntime.so.1"
  ln -s libonnxruntime.so.1 "$d/lib/libonnxruntime.so"
  printf 'const char m3ret_stand_in[] = "M3RET STAND-IN: not an ONNX Runtime provider";\n' >"$1/stub.c"
  for p in shared cuda tensorrt; do
    [ "$p:${2:-}" != tensorrt:no-tensorrt ] || continue
    gcc -shared -fPIC -o "$d/lib/libonnxruntime_providers_$p.so" "$1/stub.c"
  done
  echo "M3RET STAND-IN for ONNX Runtime's MIT licence (the real archive's LICENSE)" >"$d/LICENSE"
  echo "M3RET STAND-IN notices" >"$d/ThirdPartyNotices.txt"
  echo "$ort_version" >"$d/VERSION_NUMBER"
  echo "M3RET STAND-IN: the CPU libonnxruntime from npm and stub provider libraries, for .ci/package-cuda-check.sh" >"$d/README.md"
  tar -C "$1" -czf "$1/$name.tgz" "$name"
}
mkdir -p "$s/a" "$s/b"
standin "$s/a"
archive=$s/a/$name.tgz
sum=$(sha256sum "$archive" | cut -d' ' -f1)
pkg() { "$here/package-linux-cuda.sh" "$1" "$bin" "$version" "$2"; }

# 1. What must be refused, and refused before a .deb appears.
refused() { # refused WHAT PATTERN ENV... : package-linux-cuda.sh fails, saying PATTERN
  local what=$1 pattern=$2; shift 2
  if env "$@" "$here/package-linux-cuda.sh" "$archive" "$bin" "$version" "$s/refused" >"$s/out" 2>&1; then
    fail "$what was accepted"
  fi
  grep -q -- "$pattern" "$s/out" || { cat "$s/out" >&2; fail "$what: refused without saying '$pattern'"; }
  [ -z "$(ls -A "$s/refused" 2>/dev/null)" ] || fail "$what: refused, yet left $(ls "$s/refused")"
}
zeros=$(printf '0%.0s' {1..64})
refused "a wrong checksum" "sha256 mismatch" ORT_GPU_SHA256="$zeros"
echo "UNPINNED  $name.tgz" >"$s/pin-unpinned"
refused "an UNPINNED pin" "says UNPINNED" ORT_GPU_PIN="$s/pin-unpinned"
echo "$zeros  $name.tgz" >"$s/pin-wrong"
refused "a wrong pinned checksum" "sha256 mismatch" ORT_GPU_PIN="$s/pin-wrong"
echo "$sum  onnxruntime-linux-x64-gpu-1.23.2.tgz" >"$s/pin-other"
refused "a pin for another C API" "not ONNX Runtime ${cpu_version%.*}.x" ORT_GPU_PIN="$s/pin-other"
echo "$sum  onnxruntime-linux-x64-${ort_version}.tgz" >"$s/pin-cpu"
refused "a pin for the CPU archive" "not an onnxruntime-linux-x64-gpu-X.Y.Z.tgz" ORT_GPU_PIN="$s/pin-cpu"
ORT_GPU_PIN="$s/pin-unpinned" "$here/package-linux-cuda.sh" --check-pin >/dev/null 2>&1 && fail "--check-pin accepted UNPINNED"
[ "$("$here/package-linux-cuda.sh" --url)" = "https://github.com/microsoft/onnxruntime/releases/download/v$ort_version/$name.tgz" ] ||
  fail "--url: $("$here/package-linux-cuda.sh" --url)"

# shellcheck source=.ci/linux-layout.sh
. "$here/linux-layout.sh"
# "TYPE PATH[ -> TARGET]" per entry, directories left out.
list() { dpkg-deb -c "$1" | awk '$1 !~ /^d/ {t=substr($1,1,1); p=$6; sub(/^\.\//,"",p); print t, p ($7=="->" ? " -> " $8 : "")}' | sort; }
field() { dpkg-deb -f "$1" "$2"; }
json() { sed -n "s/.*\"$1\": \"\\(.*\\)\".*/\\1/p" "$2" | head -1; }
cpu_deb=$dist/m3ret_${version}_amd64.deb

# check_deb DEB KIND: the layout, the control fields and `m3ret info` from
# the unpacked package. KIND standin: the package of the stand-in archive;
# release: one built from the real archive (its TensorRT provider may be
# missing, and on a machine with CUDA the provider in use is not CPU).
check_deb() {
  local deb=$1 kind=$2 d=$s/$2 f
  mkdir -p "$d"
  list "$deb" >"$d/list"
  grep '^. usr/lib/m3ret/' "$d/list" >"$d/private"
  {
    echo "- usr/lib/m3ret/libonnxruntime.so.$ort_version"
    echo "- usr/lib/m3ret/libonnxruntime_providers_cuda.so"
    echo "- usr/lib/m3ret/libonnxruntime_providers_shared.so"
    if [ "$kind" = standin ] || grep -q providers_tensorrt "$d/private"; then
      echo "- usr/lib/m3ret/libonnxruntime_providers_tensorrt.so"
    fi
    echo "- usr/lib/m3ret/m3ret"
    echo "l usr/lib/m3ret/libonnxruntime.so.1 -> libonnxruntime.so.$ort_version"
  } | sort >"$d/private.want"
  diff -u "$d/private.want" "$d/private" >&2 || fail "$deb: /usr/lib/m3ret/ is not as above (-want +got)"
  for f in "l usr/bin/m3ret -> ../lib/m3ret/m3ret" "- usr/share/doc/m3ret/onnxruntime-LICENSE"; do
    grep -qxF -- "$f" "$d/list" || fail "$deb lacks '$f'"
  done
  if [ -f "$cpu_deb" ]; then
    # The same files (and sizes: the icon, the .desktop, the licences) as the
    # CPU package but for ONNX Runtime's own and the binary (DIST's may be
    # older; the binary is compared with BINARY below).
    local ort_own='^. usr/(lib/m3ret/libonnxruntime|share/doc/m3ret/onnxruntime)'
    sized() { dpkg-deb -c "$1" | awk '$1 !~ /^d/ {p=$6; sub(/^\.\//,"",p); print substr($1,1,1), p, (p=="usr/lib/m3ret/m3ret" ? "" : $3)}' | grep -Ev "$ort_own" | sort; }
    diff -u <(sized "$cpu_deb") <(sized "$deb") >&2 ||
      fail "$deb's files differ from $cpu_deb's beyond ONNX Runtime (-cpu +cuda)"
    layout="same files as $cpu_deb but ORT's"
  else
    layout="no CPU .deb in $dist to compare with"
  fi

  [ "$(field "$deb" Package)" = m3ret-cuda ] || fail "Package: $(field "$deb" Package)"
  [ "$(field "$deb" Version)" = "$version" ] || fail "Version: $(field "$deb" Version)"
  [ "$(field "$deb" Architecture)" = amd64 ] || fail "Architecture: $(field "$deb" Architecture)"
  [ "$(field "$deb" Provides)" = "m3ret (= $version)" ] || fail "Provides: $(field "$deb" Provides)"
  [ "$(field "$deb" Conflicts)" = m3ret ] || fail "Conflicts: $(field "$deb" Conflicts)"
  [ "$(field "$deb" Replaces)" = m3ret ] || fail "Replaces: $(field "$deb" Replaces)"
  [ "$(field "$deb" Depends)" = "$M3RET_DEB_DEPENDS" ] || fail "Depends: $(field "$deb" Depends)"
  if [ -f "$cpu_deb" ]; then
    [ "$(field "$deb" Depends)" = "$(field "$cpu_deb" Depends)" ] || fail "Depends differ from the CPU package's"
  fi
  ! field "$deb" Depends | grep -Eiq 'nvidia|cuda|cudnn|tensorrt|nvinfer' || fail "Depends names NVIDIA software"

  # The packaged binary, with only the packaged ORT (env -i: no
  # $M3RET_ORT_LIB, a fresh HOME so no user cache).
  dpkg -x "$deb" "$d/root"
  local priv=$d/root/usr/lib/m3ret t0 t1
  cmp -s "$bin" "$priv/m3ret" || fail "the binary in $deb is not $bin"
  t0=$(date +%s.%N)
  env -i PATH=/usr/bin:/bin HOME="$d/home" "$d/root/usr/bin/m3ret" info --json --library "$d/lib" \
    >"$d/info.json" 2>"$d/info.err" || { cat "$d/info.err" >&2; fail "m3ret info from $deb failed"; }
  t1=$(date +%s.%N)
  info_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')
  [ "$(json library "$d/info.json")" = "$priv/libonnxruntime.so.1" ] || fail "m3ret info used ORT at $(json library "$d/info.json")"
  # The stand-in's library is the npm build under the GPU archive's name.
  local want_version=$ort_version
  [ "$kind" = release ] || want_version=$cpu_version
  [ "$(json ort_version "$d/info.json")" = "$want_version" ] || fail "ORT $(json ort_version "$d/info.json"), want $want_version"
  provider=$(json provider "$d/info.json")
  grep -q '"CUDA"' "$d/info.json" || fail "m3ret info does not mention CUDA"
  if [ "$kind" = standin ]; then
    grep -q "M3RET STAND-IN" "$priv/libonnxruntime_providers_cuda.so" || fail "the CUDA provider library is not the archive's"
    [ "$provider" = CPU ] || fail "provider $provider with stand-in providers"
    # The stubs fail to load, and ORT says where it looked: in the private folder.
    grep -qF "$priv/libonnxruntime_providers_cuda.so" "$d/info.err" ||
      { cat "$d/info.err" >&2; fail "ONNX Runtime did not look for the CUDA provider beside itself"; }
  else
    case "$provider" in CPU | CUDA | TENSORRT) ;; *) fail "provider $provider" ;; esac
  fi
}

# 2. The package, pinned through a pin file as the release does.
printf '# stand-in pin\n%s  %s\n' "$sum" "$name.tgz" >"$s/pin"
ORT_GPU_PIN="$s/pin" "$here/package-linux-cuda.sh" --check-pin >/dev/null
ORT_GPU_PIN="$s/pin" pkg "$archive" "$s/dist" >/dev/null
check_deb "$s/dist/m3ret-cuda_${version}_amd64.deb" standin
standin_info="$layout; info from the package: CPU, ORT beside the binary, in $info_s s"

# 3. The real package, when DIST has one (release.yml: built from the
# official archive just before).
real_deb=$dist/m3ret-cuda_${version}_amd64.deb
if [ -f "$real_deb" ]; then
  check_deb "$real_deb" release
  real_info="$real_deb ok ($layout; info: ORT $ort_version beside the binary, $provider in use, in $info_s s)"
elif [ "${M3RET_REQUIRE_CUDA_DEB:-0}" = 1 ]; then
  fail "no $real_deb (make package-linux-cuda ORT_GPU_ARCHIVE=...)"
else
  real_info="no $real_deb to check (make package-linux-cuda)"
fi

# 4. An archive without the TensorRT provider: packaged, said, left out.
standin "$s/b" no-tensorrt
ORT_GPU_SHA256=$(sha256sum "$s/b/$name.tgz" | cut -d' ' -f1) pkg "$s/b/$name.tgz" "$s/dist-b" >/dev/null 2>"$s/b.err" ||
  { cat "$s/b.err" >&2; fail "an archive without TensorRT was refused"; }
grep -q "no libonnxruntime_providers_tensorrt.so" "$s/b.err" || fail "the missing TensorRT provider went unsaid"
list "$s/dist-b/m3ret-cuda_${version}_amd64.deb" >"$s/list-b"
grep -q providers_tensorrt "$s/list-b" && fail "a TensorRT provider appeared from nowhere"
grep -qx -- "- usr/lib/m3ret/libonnxruntime_providers_cuda.so" "$s/list-b" || fail "no CUDA provider without TensorRT"

end=$(date +%s.%N)
echo "package-cuda-check: pinned GPU archive $name.tgz; stand-in for it ok (wrong sum, UNPINNED, other-API and non-GPU pins refused; layout and control fields, $standin_info; an archive without TensorRT packaged without it); $real_info; $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.0f", b-a}') s in all"
