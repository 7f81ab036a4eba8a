#!/usr/bin/python3
"""Build the baseline encoder: a real ONNX graph, not a learned one.

    pixels [B, 1, 1, 64, 64] (already resized and intensity-normalised by the
    Go preprocessing, as the manifest says)
      -> flatten to [B, 4096]
      -> per-image standardisation (subtract mean, divide by std + 1e-6)
      -> a fixed random projection W [4096, 256], N(0, 1/256), numpy seed 20260101
      -> L2 normalisation
    embedding [B, 256]

Cosine similarity of two embeddings approximates the correlation of the two
standardised 64x64 images (Johnson-Lindenstrauss), which makes a fair,
honest floor for the learned encoder to beat.

Usage: /usr/bin/python3 inference/baseline/make_baseline.py OUT_DIR
Writes OUT_DIR/baseline.onnx and OUT_DIR/baseline.json (the manifest).
Needs Debian's python3-onnx and python3-numpy.
"""
import hashlib
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SEED = 20260101
SIDE = 64
DIM = 256


def build():
    rng = np.random.default_rng(SEED)
    w = (rng.standard_normal((SIDE * SIDE, DIM)) / np.sqrt(DIM)).astype(np.float32)
    inits = [
        numpy_helper.from_array(w, "projection"),
        numpy_helper.from_array(np.array([-1, SIDE * SIDE], dtype=np.int64), "flat_shape"),
        numpy_helper.from_array(np.array([1e-6], dtype=np.float32), "eps"),
    ]
    nodes = [
        helper.make_node("Reshape", ["pixels", "flat_shape"], ["flat"]),
        helper.make_node("ReduceMean", ["flat"], ["mean"], axes=[1], keepdims=1),
        helper.make_node("Sub", ["flat", "mean"], ["centred"]),
        helper.make_node("Mul", ["centred", "centred"], ["sq"]),
        helper.make_node("ReduceMean", ["sq"], ["var"], axes=[1], keepdims=1),
        helper.make_node("Sqrt", ["var"], ["std"]),
        helper.make_node("Add", ["std", "eps"], ["std_eps"]),
        helper.make_node("Div", ["centred", "std_eps"], ["standard"]),
        helper.make_node("MatMul", ["standard", "projection"], ["projected"]),
        helper.make_node("LpNormalization", ["projected"], ["embedding"], axis=1, p=2),
    ]
    graph = helper.make_graph(
        nodes,
        "m3ret_baseline",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["batch", 1, 1, SIDE, SIDE])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", DIM])],
        inits,
    )
    model = helper.make_model(graph, producer_name="m3ret-baseline",
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def manifest(sha):
    return {
        "name": "baseline",
        "version": "1",
        "file": "baseline.onnx",
        "sha256": sha,
        "description": "Non-learned baseline: per-image standardisation and a fixed seeded "
                       "random projection of the 64x64 image to 256-d, L2-normalised.",
        "licence": "MIT (part of M3Ret Viewer)",
        "input": {"name": "pixels", "shape": [-1, 1, 1, SIDE, SIDE]},
        "output": {"name": "embedding", "dim": DIM},
        "batch_size": 16,
        "normalisation": {
            "CT": {"method": "window", "center": 40, "width": 400},
            "RGB": {"method": "meanstd", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
            "default": {"method": "percentile", "low": 1, "high": 99},
        },
        "time_mapping": {"image2d": "repeat", "volume": "resample", "video": "even"},
        "seed": SEED,
    }


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    model = build()
    path = os.path.join(out, "baseline.onnx")
    onnx.save(model, path)
    sha = hashlib.sha256(open(path, "rb").read()).hexdigest()
    with open(os.path.join(out, "baseline.json"), "w") as f:
        json.dump(manifest(sha), f, indent=2)
        f.write("\n")
    print(path, sha)


if __name__ == "__main__":
    main()
