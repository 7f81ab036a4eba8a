#!/usr/bin/env bash
# GPU check for the accelerator machine (issue 5): run the headless CLI that
# `make device-bundle` put in build/device/ and report what happened.
# Writes everything under $OUT (default build/gpu-check).
set -uo pipefail
out=${OUT:-build/gpu-check}
mkdir -p "$out"
dir=$(cd "$(dirname "$0")/../build/device" && pwd)
bin=$dir/m3ret-headless
export M3RET_SETTINGS=$out/settings.json
{
  echo "== machine"; uname -a; nproc; free -g | head -2
  echo "== nvidia-smi"; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 || echo "no nvidia-smi"
  echo "== CUDA libraries"; ldconfig -p 2>/dev/null | grep -E 'libcudart|libcublas|libcudnn' | head || true
  echo "== python torch"; /usr/bin/python3 -c 'import torch; print(torch.__version__, "cuda", torch.cuda.is_available())' 2>&1 | tail -1
  python3 -c 'import torch; print(torch.__version__, "cuda", torch.cuda.is_available())' 2>&1 | tail -1
  echo "== ORT GPU builds on this machine"; find / -xdev -name 'libonnxruntime_providers_cuda.so' 2>/dev/null | head -5
} > "$out/machine.txt" 2>&1
cat "$out/machine.txt"
"$bin" info --json --library "$out/lib" --ort-lib "$dir/libonnxruntime.so.1" > "$out/info.json" 2> "$out/info.err"
echo "== info (bundled CPU ORT): exit $?"; cat "$out/info.json" "$out/info.err"
"$bin" bench embed --json --provider cuda --python "" --library "$out/lib" --ort-lib "$dir/libonnxruntime.so.1" > "$out/bench.json" 2> "$out/bench.err"
echo "== bench embed, CUDA forced (bundled ORT has none): exit $?"; cat "$out/bench.json" "$out/bench.err"
for p in $(find / -xdev -name 'libonnxruntime_providers_cuda.so' 2>/dev/null | head -3); do
  lib=$(ls "$(dirname "$p")"/libonnxruntime.so* 2>/dev/null | head -1)
  [ -n "$lib" ] || continue
  echo "== with the GPU build at $lib"
  "$bin" info --json --library "$out/lib2" --ort-lib "$lib" 2>&1 | tee "$out/info-gpu.json"
  "$bin" bench embed --json --provider cuda --python "" --library "$out/lib2" --ort-lib "$lib" 2>&1 | tee "$out/bench-gpu.json"
done
