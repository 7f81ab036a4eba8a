#!/usr/bin/env bash
# The w sweep of inference/train/README.md, "Fused learned and pixel
# channels": builds fused models of the shipped m3ret-vit with fuse.py and
# runs eval_dev.sh on them with the baseline and the plain model.
#   WS: the learned channel's weights (default 1 0.9 0.8 0.7 0.6 0.5 0.4 0.3 0)
#   VARIANTS: pixel channels, NAME:FUSE_ARGS, commas for spaces (default
#     pool12, pool8, proj192; e.g. "mirror:--mirror pool12:--grid=12" with
#     WS="1 0.8" for the mirror-averaged models of the README)
#   OUT: where the models and the eval go (default build/fuse)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-build/fuse}
WS=${WS:-1 0.9 0.8 0.7 0.6 0.5 0.4 0.3 0}
VARIANTS=${VARIANTS:-"pool12:--grid=12 pool8:--grid=8 proj192:--pixels=proj"}
models="baseline=baseline learned=m3ret-vit"
for v in $VARIANTS; do
  vname=${v%%:*} args=${v#*:}
  for w in $WS; do
    name=$vname-$w
    /usr/bin/python3 inference/fuse/fuse.py --w "$w" --out "$OUT/models" --name "$name" ${args//,/ } >/dev/null
    models+=" $name=$OUT/models/$name.json"
  done
done
[ -n "${BIN:-}" ] || { BIN=$OUT/m3ret; ${GO:-go} build -tags headless -o "$BIN" .; }
MODELS=$models BIN=$BIN EVAL_OUT=$OUT/eval inference/train/eval_dev.sh
