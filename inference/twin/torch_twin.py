#!/usr/bin/python3
"""PyTorch twin of an ONNX model, for `m3ret bench embed`.

Runs the ONNX graph node by node with PyTorch operators in eager mode (no
ONNX Runtime involved), on the same input tensors the Go side gave ONNX
Runtime, and reports:
  items_per_s    eager PyTorch throughput on those tensors
  flops_per_item multiply-adds x 2 for MatMul/Gemm/Conv, plus one per output
                 element for element-wise and reduction nodes
  max_abs_diff   largest difference from the embeddings ONNX Runtime returned

usage: torch_twin.py MODEL.onnx INPUT_NAME TENSORS.f32 SHAPE(comma) ORT_OUT.f32 REPS THREADS
Prints one JSON object. Needs Debian's python3-torch and python3-onnx.
"""
import json
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper


def attrs(node):
    out = {}
    for a in node.attribute:
        v = onnx.helper.get_attribute_value(a)
        out[a.name] = v.decode() if isinstance(v, bytes) else v
    return out


def matmul_flops(a, b, out):
    return 2 * out.numel() * a.shape[-1]


def run(graph, inits, x, count):
    env = dict(inits)
    env[graph.input[0].name] = x
    flops = 0
    for node in graph.node:
        a = attrs(node)
        ins = [env[i] if i else None for i in node.input]
        op = node.op_type
        if op == "Reshape":
            shape = [int(s) for s in ins[1].tolist()]
            shape = [ins[0].shape[i] if s == 0 else s for i, s in enumerate(shape)]
            y = ins[0].reshape(shape)
        elif op == "Flatten":
            ax = a.get("axis", 1)
            y = ins[0].reshape(int(np.prod(ins[0].shape[:ax])), -1)
        elif op in ("ReduceMean", "ReduceSum"):
            axes = a.get("axes") or (ins[1].tolist() if len(ins) > 1 and ins[1] is not None else None)
            fn = torch.mean if op == "ReduceMean" else torch.sum
            y = fn(ins[0], dim=tuple(axes), keepdim=bool(a.get("keepdims", 1)))
        elif op == "Div" and not ins[0].is_floating_point() and not ins[1].is_floating_point():
            y = torch.div(ins[0], ins[1], rounding_mode="trunc")  # integer shape arithmetic
        elif op in ("Add", "Sub", "Mul", "Div", "Pow"):
            fn = {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Div": torch.div, "Pow": torch.pow}[op]
            y = fn(ins[0], ins[1])
        elif op == "Shape":
            y = torch.tensor(list(ins[0].shape), dtype=torch.int64)
        elif op == "Gather":
            y = torch.from_numpy(np.asarray(np.take(ins[0].numpy(), ins[1].numpy(), axis=a.get("axis", 0))))
        elif op == "Slice":
            axes = ins[3].tolist() if len(ins) > 3 and ins[3] is not None else list(range(len(ins[1])))
            steps = ins[4].tolist() if len(ins) > 4 and ins[4] is not None else [1] * len(axes)
            idx = [slice(None)] * ins[0].dim()
            for st, en, ax, sp in zip(ins[1].tolist(), ins[2].tolist(), axes, steps):
                n = ins[0].shape[ax]
                idx[ax] = slice(max(-n, min(n, st)), max(-n - 1, min(n, en)), sp)
            y = ins[0][tuple(idx)]
        elif op == "Cast":
            y = ins[0].to({1: torch.float32, 6: torch.int32, 7: torch.int64, 9: torch.bool, 11: torch.float64}[a["to"]])
        elif op == "Expand":
            y = torch.broadcast_to(ins[0], np.broadcast_shapes(tuple(ins[0].shape), tuple(ins[1].tolist())))
        elif op == "ReduceL2":
            y = torch.sqrt(torch.sum(ins[0] * ins[0], dim=tuple(a["axes"]), keepdim=bool(a.get("keepdims", 1))))
        elif op == "Clip":
            lo = ins[1] if len(ins) > 1 and ins[1] is not None else None
            hi = ins[2] if len(ins) > 2 and ins[2] is not None else None
            y = torch.clamp(ins[0], min=lo, max=hi)
        elif op == "LayerNormalization":
            ax = a.get("axis", -1) % ins[0].dim()
            y = F.layer_norm(ins[0], tuple(ins[0].shape[ax:]), ins[1], ins[2] if len(ins) > 2 else None,
                             eps=a.get("epsilon", 1e-5))
        elif op in ("Sqrt", "Relu", "Tanh", "Sigmoid", "Exp", "Erf", "Neg", "Reciprocal"):
            y = getattr(torch, op.lower())(ins[0])
        elif op == "MatMul":
            y = torch.matmul(ins[0], ins[1])
            flops += matmul_flops(ins[0], ins[1], y)
        elif op == "Gemm":
            A = ins[0].t() if a.get("transA", 0) else ins[0]
            B = ins[1].t() if a.get("transB", 0) else ins[1]
            y = a.get("alpha", 1.0) * (A @ B)
            if len(ins) > 2 and ins[2] is not None:
                y = y + a.get("beta", 1.0) * ins[2]
            flops += matmul_flops(A, B, y)
        elif op == "Conv":
            w = ins[1]
            dims = w.dim() - 2
            conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[dims]
            pads = a.get("pads", [0] * 2 * dims)[:dims]
            y = conv(ins[0], w, ins[2] if len(ins) > 2 else None, stride=a.get("strides", 1),
                     padding=tuple(pads), dilation=a.get("dilations", 1), groups=a.get("group", 1))
            flops += 2 * y.numel() * int(np.prod(w.shape[1:]))
        elif op == "LpNormalization":
            y = F.normalize(ins[0], p=a.get("p", 2), dim=a.get("axis", -1))
        elif op == "Transpose":
            y = ins[0].permute(*a["perm"])
        elif op == "Softmax":
            y = torch.softmax(ins[0], dim=a.get("axis", -1))
        elif op == "Concat":
            y = torch.cat(ins, dim=a["axis"])
        elif op == "Unsqueeze":
            y = ins[0]
            for ax in sorted(a.get("axes") or ins[1].tolist()):
                y = y.unsqueeze(ax)
        elif op == "Squeeze":
            y = ins[0].squeeze(*(a.get("axes") or ins[1].tolist()))
        elif op == "Identity":
            y = ins[0]
        elif op == "Constant":
            y = torch.from_numpy(numpy_helper.to_array(a["value"]).copy())
        else:
            raise SystemExit(json.dumps({"error": "twin has no operator " + op}))
        if op not in ("MatMul", "Gemm", "Conv", "Reshape", "Flatten", "Transpose", "Identity",
                      "Unsqueeze", "Squeeze", "Constant", "Concat", "Shape", "Gather", "Slice", "Cast",
                      "Expand") and y.is_floating_point():
            flops += y.numel()
        env[node.output[0]] = y
    if count:
        run.flops = flops
    return env[graph.output[0].name]


def main():
    model_path, _, tensors, shape, ort_out, reps, threads = sys.argv[1:8]
    torch.set_num_threads(int(threads))
    shape = [int(s) for s in shape.split(",")]
    x = torch.from_numpy(np.fromfile(tensors, dtype=np.float32).reshape(shape))
    model = onnx.load(model_path)
    inits = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in model.graph.initializer}
    with torch.no_grad():
        out = run(model.graph, inits, x, True)  # warm-up, counts FLOPs
        reps = int(reps)
        t0 = time.perf_counter()
        for _ in range(reps):
            out = run(model.graph, inits, x, False)
        dt = time.perf_counter() - t0
    ref = np.fromfile(ort_out, dtype=np.float32).reshape(out.shape)
    print(json.dumps({
        "items_per_s": reps * shape[0] / dt,
        "flops_per_item": run.flops / shape[0],
        "max_abs_diff": float(np.abs(out.numpy() - ref).max()),
        "torch_version": torch.__version__,
        "threads": int(threads),
    }))


if __name__ == "__main__":
    main()
