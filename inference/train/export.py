"""ONNX export of the encoder with its manifest (the model contract of
the README's model section): opset 17, input "pixels" [B, 1, T, H, W]
with a dynamic batch, output "embedding" [B, dim], L2-normalised.

Beside MODEL.onnx and MODEL.json it writes MODEL.reference.json: the
PyTorch output for a deterministic input (an integer LCG both Go and Python
compute exactly, see lcg_input), which the Go test of the shipped model
compares with what ONNX Runtime returns.
"""
import copy
import hashlib
import json
import os

import numpy as np
import torch


def lcg_input(shape):
    """x[i] = ((1664525 * i + 1013904223) mod 2^32) / 2^32, i over the
    flattened tensor: reproducible exactly in Go."""
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.uint64)
    v = (np.uint64(1664525) * i + np.uint64(1013904223)) % np.uint64(1 << 32)
    return (v.astype(np.float64) / float(1 << 32)).astype(np.float32).reshape(shape)


def export(model, template, out_dir, name, description, version=None):
    tmpl = json.load(open(template))
    model = copy.deepcopy(model).cpu().eval()  # the caller's copy may stay on the GPU, training
    shape = [int(s) for s in tmpl["input"]["shape"]]
    x = torch.from_numpy(lcg_input([2] + shape[1:]))
    path = os.path.join(out_dir, name + ".onnx")
    with torch.no_grad():
        ref = model(x)
        torch.onnx.export(model, x, path, opset_version=17, input_names=["pixels"], output_names=["embedding"],
                          dynamic_axes={"pixels": {0: "batch"}, "embedding": {0: "batch"}}, do_constant_folding=True)
    data = open(path, "rb").read()
    sha = hashlib.sha256(data).hexdigest()
    man = dict(tmpl)
    man.update({"name": name, "version": version or "1", "file": name + ".onnx", "sha256": sha,
                "description": description})
    man["output"] = {"name": "embedding", "dim": int(ref.shape[1])}
    with open(os.path.join(out_dir, name + ".json"), "w") as f:
        json.dump(man, f, indent=2)
        f.write("\n")
    with open(os.path.join(out_dir, name + ".reference.json"), "w") as f:
        json.dump({"model_sha256": sha, "input": "lcg", "shape": [2] + shape[1:],
                   "embedding": [[round(float(v), 7) for v in row] for row in ref.numpy()]}, f)
        f.write("\n")
    return path
