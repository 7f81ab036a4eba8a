#!/usr/bin/env bash
# `make eval`: the dev-set tables of inference/train/README.md.
# For each model (the baseline; the random-init, MAE-only, MAE+SimDINO
# before whitening and shipped encoders that `make train` left in
# build/train/out, or else the shipped one; and the model that run replaced,
# kept in build/train/out/previous), import the dev set into a fresh
# library and run `m3ret eval` with both labellings (anatomy+plane, series),
# with --perturb (each item queried by a perturbed copy, seeded) and, by
# anatomy, --cross-modal (the gallery leaves out the query's MR contrast).
# Prints three Markdown tables (leave-one-out, perturbation, cross-modal),
# each figure with its 95 % bootstrap interval over the queries; the
# perturbation table's "own series removed" columns are the series run's
# recall with the original's series left out of the gallery but for itself;
# JSON reports, one precision@k plot per model and labelling, and
# precision-{anatomy,series}.png with every curve go to build/eval/.
#   BIN: the m3ret binary (default: build it headless into build/eval/m3ret)
#   MODELS: space-separated NAME=MODEL (embedded name or .onnx path)
#   PREVIOUS: the replaced model's .onnx (default build/train/out/previous/m3ret-vit.onnx)
#   SEED: the perturbations' seed (default 1)
#   MULTI_VECTOR=1: also --multi-vector (12 vectors per gallery item, about 12 times
#     the embedding), and a fourth table: single against multi-vector
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
OUT=${EVAL_OUT:-build/eval}
TR=${TRAIN_OUT:-build/train/out}
mkdir -p "$OUT"
$PY -c "import nibabel, PIL, numpy" 2>/dev/null || .ci/deps.sh --train
cache=$($PY inference/train/prepare_data.py --manifest "$OUT/data_manifest.json")
if [ -z "${BIN:-}" ]; then BIN=$OUT/m3ret; ${GO:-go} build -tags headless -o "$BIN" .; fi
default_models="baseline=baseline"
[ -f "$TR/m3ret-vit-random.onnx" ] && default_models+=" random-init=$TR/m3ret-vit-random.onnx"
[ -f "$TR/m3ret-vit-mae.onnx" ] && default_models+=" mae=$TR/m3ret-vit-mae.onnx"
[ -f "$TR/m3ret-vit-simdino.onnx" ] && default_models+=" mae+simdino-unwhitened=$TR/m3ret-vit-simdino.onnx"
PREVIOUS=${PREVIOUS:-$TR/previous/m3ret-vit.onnx}
[ -f "$PREVIOUS" ] && default_models+=" previous=$PREVIOUS"
if [ -f "$TR/m3ret-vit.onnx" ]; then default_models+=" mae+simdino=$TR/m3ret-vit.onnx"; else default_models+=" mae+simdino=m3ret-vit"; fi
MODELS=${MODELS:-$default_models}
mapfile -t files < <(tail -n +2 "$cache/labels-anatomy.csv" | cut -d, -f1 | sed "s|^|$cache/|")
for nm in $MODELS; do
  name=${nm%%=*} model=${nm#*=}
  lib="$OUT/lib-$name"
  rm -rf "$lib"
  "$BIN" import --library "$lib" --model "$model" "${files[@]}" >/dev/null 2>"$OUT/import-$name.log" || [ $? = 3 ]
  for lab in anatomy series; do
    cross=(); [ $lab = anatomy ] && cross=(--cross-modal)
    [ -n "${MULTI_VECTOR:-}" ] && cross+=(--multi-vector)
    "$BIN" eval --library "$lib" --model "$model" --labels "$cache/labels-$lab.csv" --k 10 \
      --perturb --seed "${SEED:-1}" "${cross[@]}" --plot "$OUT/$name-$lab.png" --json > "$OUT/$name-$lab.json"
  done
done
# One plot per labelling with every model's precision@k curve: the last
# model's run, drawn with the earlier ones' reports.
last=${MODELS##* }
for lab in anatomy series; do
  with=()
  for nm in $MODELS; do [ "$nm" = "$last" ] || with+=(--plot-with "$OUT/${nm%%=*}-$lab.json"); done
  "$BIN" eval --library "$OUT/lib-${last%%=*}" --model "${last#*=}" --labels "$cache/labels-$lab.csv" --k 10 \
    --plot "$OUT/precision-$lab.png" "${with[@]}" >/dev/null
done
$PY - "$OUT" $MODELS <<'PYEOF'
import json, sys
out, models = sys.argv[1], [m.split("=")[0] for m in sys.argv[2:]]

def f(r, key):
    """A figure with its 95 % bootstrap interval: 0.482 [0.41, 0.55]."""
    ci = r.get(key + "_ci")
    return f"{r[key]:.3f} [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else f"{r[key]:.3f}"

print("Each figure with its 95 % bootstrap interval over the queries (1,000 resamples, fixed seed).")
print()
print("| model | labelling | queries | P@1 | P@5 | recall@10 | mAP@10 |")
print("|---|---|---:|---:|---:|---:|---:|")
for lab in ("anatomy", "series"):
    for m in models:
        r = json.load(open(f"{out}/{m}-{lab}.json"))
        print(f"| {m} | {lab} | {r['n']} | {f(r, 'precision_at_1')} | {f(r, 'precision_at_5')} | {f(r, 'recall_at_k')} | {f(r, 'map_at_k')} |")
print()
p0 = json.load(open(f"{out}/{models[0]}-anatomy.json"))["perturbation"]
print("Perturbed copies as queries (%s; seed %d):" % (p0["changes"], p0["seed"]))
print()
print("| model | queries | recall@1 of the original | recall@5 of the original | recall@1, own series removed | recall@5, own series removed "
      "| mAP@10 anatomy, original left out | mAP@10 series, original left out |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for m in models:
    a, s = (json.load(open(f"{out}/{m}-{lab}.json"))["perturbation"] for lab in ("anatomy", "series"))
    print(f"| {m} | {a['n']} | {f(a, 'recall_at_1')} | {f(a, 'recall_at_5')} | {f(s, 'recall_at_1_other_labels')} | {f(s, 'recall_at_5_other_labels')} "
          f"| {f(a, 'map_at_k')} | {f(s, 'map_at_k')} |")
print()
c0 = json.load(open(f"{out}/{models[0]}-anatomy.json"))["cross_modal"]
mods = c0["modalities"]
print("Cross-modal (the gallery leaves out the query's modality: %s; same anatomy and plane is relevant; "
      "not scored: %d queries with no relevant item in another modality, %d with nothing else there):"
      % (", ".join(mods), c0["no_relevant"], c0["only_relevant"]))
print()
print("| model | queries | P@1 | mAP@10 | " + " | ".join(f"mAP@10 {x} queries (n)" for x in mods) + " |")
print("|---|---:|---:|---:|" + "---:|" * len(mods))
for m in models:
    c = json.load(open(f"{out}/{m}-anatomy.json"))["cross_modal"]
    per = [c["per_modality"].get(x) for x in mods]
    cells = [f"{p['map_at_k']:.3f} ({p['n']})" if p else "—" for p in per]
    print(f"| {m} | {c['n']} | {f(c, 'precision_at_1')} | {f(c, 'map_at_k')} | " + " | ".join(cells) + " |")
if all("multi_vector" in json.load(open(f"{out}/{m}-anatomy.json")) for m in models):
    print()
    print("Several embeddings per item (perturbed copies against 1 and against 12 vectors per gallery item; "
          "leave-one-out: the whole-image vector against the others' vectors):")
    print()
    print("| model | gallery | recall@1 | recall@5 | recall@1, own series removed | mAP@10 anatomy | mAP@10 series "
          "| leave-one-out mAP@10 anatomy | leave-one-out mAP@10 series | embedding time |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for m in models:
        a, s = (json.load(open(f"{out}/{m}-{lab}.json")) for lab in ("anatomy", "series"))
        ma, ms = a["multi_vector"], s["multi_vector"]
        for g, pa, ps, la, ls, t in (("1", a["perturbation"], s["perturbation"], a, s, "1"),
                                     (str(ma["vectors_per_item"]), ma["perturbation"], ms["perturbation"], ma, ms, f"{ma['embed_ratio']:.1f}x")):
            print(f"| {m} | {g} | {f(pa, 'recall_at_1')} | {f(pa, 'recall_at_5')} | {f(ps, 'recall_at_1_other_labels')} "
                  f"| {f(pa, 'map_at_k')} | {f(ps, 'map_at_k')} | {f(la, 'map_at_k')} | {f(ls, 'map_at_k')} | {t} |")
PYEOF
