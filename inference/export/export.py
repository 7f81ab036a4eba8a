#!/usr/bin/python3
"""Turns a published foundation-model checkpoint into a model for M3Ret
Viewer: NAME.onnx, its manifest NAME.json (the model contract: input
[B, 3, 1, S, S], normalisation, how volumes and videos are averaged over
slices and frames) and NAME.reference.json (PyTorch's output on a fixed
input, which the Go test compares with ONNX Runtime).

  python3 inference/export/export.py --arch dinov2_vits14 --weights dinov2_vits14_pretrain.pth --out models/
  python3 inference/export/export.py --arch rad-dino --weights rad-dino/model.safetensors --out models/

Needs PyTorch (1.13 or newer) and the onnx package; nothing else, no network.
The checkpoint is loaded strictly: every tensor the architecture has, of the
right shape, and no other. See README.md beside this file.
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np
import torch

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checkpoint import read_checkpoint  # noqa: E402
from vit import PATCH, DinoV2, Embedder, HFDinov2  # noqa: E402

IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])  # dinov2/data/transforms.py
RAD_DINO = ([0.5307] * 3, [0.2583] * 3)  # microsoft/rad-dino preprocessor_config.json
DINOV2_URL = "https://dl.fbaipublicfiles.com/dinov2"
DINOV2_LICENCE = "Apache-2.0 (DINOv2 code and weights, Meta Platforms); see github.com/facebookresearch/dinov2"
RAD_DINO_LICENCE = ("as published with the weights at huggingface.co/microsoft/rad-dino (MIT at the time of writing; "
                    "earlier revisions: Microsoft Research Licence Agreement); research use only, not for clinical practice")


def _dinov2(code, title, dim, depth, heads, registers=0):
    base = code.replace("_reg", "")
    full = base + ("_reg4" if registers else "")
    return dict(layout="dinov2", dim=dim, depth=depth, heads=heads, registers=registers, size=224, norm=IMAGENET,
                title=title, licence=DINOV2_LICENCE, weights=f"{full}_pretrain.pth",
                url=f"{DINOV2_URL}/{base}/{full}_pretrain.pth")


ARCHS = {
    "dinov2_vits14": _dinov2("dinov2_vits14", "DINOv2 ViT-S/14", 384, 12, 6),
    "dinov2_vitb14": _dinov2("dinov2_vitb14", "DINOv2 ViT-B/14", 768, 12, 12),
    "dinov2_vitl14": _dinov2("dinov2_vitl14", "DINOv2 ViT-L/14", 1024, 24, 16),
    "dinov2_vits14_reg": _dinov2("dinov2_vits14_reg", "DINOv2 ViT-S/14 with registers", 384, 12, 6, 4),
    "dinov2_vitb14_reg": _dinov2("dinov2_vitb14_reg", "DINOv2 ViT-B/14 with registers", 768, 12, 12, 4),
    "dinov2_vitl14_reg": _dinov2("dinov2_vitl14_reg", "DINOv2 ViT-L/14 with registers", 1024, 24, 16, 4),
    "rad-dino": dict(layout="hf", dim=768, depth=12, heads=12, registers=0, size=518, norm=RAD_DINO,
                     title="RAD-DINO (DINOv2 ViT-B/14 trained on chest X-rays)", licence=RAD_DINO_LICENCE,
                     weights="model.safetensors", url="https://huggingface.co/microsoft/rad-dino"),
}

# How the Go side feeds a 2D model (manifest fields, see inference/manifest.go).
NORMALISATION = {
    "CT": {"method": "window", "center": 40, "width": 400},
    "RGB": {"method": "meanstd", "mean": [0, 0, 0], "std": [1, 1, 1]},
    "default": {"method": "percentile", "low": 1, "high": 99},
}


def build(arch):
    a = ARCHS[arch]
    if a["layout"] == "hf":
        return HFDinov2(a["dim"], a["depth"], a["heads"])
    return DinoV2(a["dim"], a["depth"], a["heads"], a["registers"])


def load(arch, path):
    """Our module for arch with the checkpoint at path loaded strictly."""
    model = build(arch)
    sd = read_checkpoint(path)
    want = model.state_dict()
    for prefix in ("module.", "dinov2.", "backbone."):  # the whole file saved from a wrapper
        if sd and all(k.startswith(prefix) for k in sd) and not any(k.startswith(prefix) for k in want):
            sd = {k[len(prefix):]: v for k, v in sd.items()}
    missing = [k for k in want if k not in sd]
    unexpected = [k for k in sd if k not in want]
    wrong = [f"{k} {tuple(sd[k].shape)} (want {tuple(want[k].shape)})"
             for k in want if k in sd and sd[k].shape != want[k].shape]
    if missing or unexpected or wrong:
        def few(xs):
            return ", ".join(xs[:5]) + (f" and {len(xs) - 5} more" if len(xs) > 5 else "")
        msg = [f"{path} is not a {ARCHS[arch]['title']} checkpoint ({ARCHS[arch]['weights']}):"]
        if missing:
            msg.append(f"  missing {len(missing)}: {few(missing)}")
        if unexpected:
            msg.append(f"  unexpected {len(unexpected)}: {few(unexpected)}")
        if wrong:
            msg.append(f"  wrong shape {len(wrong)}: {few(wrong)}")
        raise SystemExit("\n".join(msg))
    model.load_state_dict(sd, strict=True)
    return model.eval()


def lcg_input(shape):
    """x[i] = ((1664525 i + 1013904223) mod 2^32) / 2^32 over the flattened
    tensor: computed exactly the same in Go (inference/train/export.py)."""
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.uint64)
    v = (np.uint64(1664525) * i + np.uint64(1013904223)) % np.uint64(1 << 32)
    return (v.astype(np.float64) / float(1 << 32)).astype(np.float32).reshape(shape)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def manifest(args, a, name, onnx_sha, dim, weights_sha):
    pool = {"cls": "the CLS token", "cls+mean": "the CLS token and the mean patch token"}[args.pool]
    grid = args.size // PATCH
    desc = (f"{a['title']}, exported from {os.path.basename(args.weights)} (sha256 {weights_sha[:12]}) "
            f"at {args.size} px ({grid}x{grid} patches of {PATCH}, position embeddings interpolated at export); "
            f"{pool} after the final norm, L2-normalised; mean {a['norm'][0]} / std {a['norm'][1]} applied "
            f"inside the graph to input in [0, 1]; volumes: {args.volume_slices} {args.volume_mapping} slices, "
            f"videos: {args.video_frames} {args.video_mapping} frames, embeddings averaged")
    return {
        "name": name, "version": "1", "file": name + ".onnx", "sha256": onnx_sha,
        "description": desc, "licence": a["licence"],
        "input": {"name": "pixels", "shape": [-1, 3, 1, args.size, args.size]},
        "output": {"name": "embedding", "dim": dim},
        "batch_size": args.batch_size,
        "normalisation": NORMALISATION,
        "time_mapping": {"image2d": "repeat", "volume": args.volume_mapping, "video": args.video_mapping},
        "average_frames": {"volume": args.volume_slices, "video": args.video_frames},
        "source": {"arch": args.arch, "weights": os.path.basename(args.weights), "weights_sha256": weights_sha,
                   "url": a["url"], "size": args.size, "pool": args.pool},
    }


def export(args):
    a = ARCHS[args.arch]
    name = args.name or args.arch.replace("_", "-")
    os.makedirs(args.out, exist_ok=True)
    emb = Embedder(load(args.arch, args.weights), args.size, args.pool, *a["norm"]).eval()
    path = os.path.join(args.out, name + ".onnx")
    x = torch.from_numpy(lcg_input([2, 3, 1, args.size, args.size]))
    with torch.no_grad():
        ref = emb(x)
        torch.onnx.export(emb, x, path, opset_version=17, input_names=["pixels"], output_names=["embedding"],
                          dynamic_axes={"pixels": {0: "batch"}, "embedding": {0: "batch"}}, do_constant_folding=True)
    check_onnx(path, args.size, ref.shape[1])
    onnx_sha = sha256(path)
    man = manifest(args, a, name, onnx_sha, int(ref.shape[1]), sha256(args.weights))
    with open(os.path.join(args.out, name + ".json"), "w") as f:
        json.dump(man, f, indent=2)
        f.write("\n")
    with open(os.path.join(args.out, name + ".reference.json"), "w") as f:
        json.dump({"model_sha256": onnx_sha, "input": "lcg", "shape": list(x.shape),
                   "embedding": [[round(float(v), 7) for v in row] for row in ref.numpy()]}, f)
        f.write("\n")
    return os.path.join(args.out, name + ".json")


def check_onnx(path, size, dim):
    """Checks the graph, and writes the embedding's length into its output
    shape (the tracer leaves it symbolic)."""
    import onnx
    m = onnx.load(path)
    out_dim = m.graph.output[0].type.tensor_type.shape.dim[1]
    out_dim.Clear()
    out_dim.dim_value = dim
    onnx.save(m, path)
    onnx.checker.check_model(m)

    def dims(v):
        return [d.dim_value if d.HasField("dim_value") else -1 for d in v.type.tensor_type.shape.dim]
    ins, outs = [i for i in m.graph.input if i.name == "pixels"], m.graph.output
    assert len(ins) == 1 and dims(ins[0]) == [-1, 3, 1, size, size], [dims(i) for i in m.graph.input]
    assert outs[0].name == "embedding" and dims(outs[0]) == [-1, dim], dims(outs[0])


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--arch", required=True, choices=sorted(ARCHS), help="the checkpoint's architecture")
    p.add_argument("--weights", required=True, help="the checkpoint file (.pth, .bin or .safetensors)")
    p.add_argument("--out", default=".", help="output folder (default: here)")
    p.add_argument("--name", help="model name (default: the arch, e.g. dinov2-vits14)")
    p.add_argument("--size", type=int, help="input size in px, a multiple of 14 (default: 224 for DINOv2, 518 for RAD-DINO)")
    p.add_argument("--pool", default="cls", choices=["cls", "cls+mean"], help="embedding: CLS token, or CLS and mean patch token")
    p.add_argument("--volume-slices", type=int, default=8, help="slices a volume is embedded from (averaged)")
    p.add_argument("--volume-mapping", default="central", choices=["central", "even"],
                   help="central: evenly over the middle half of the stack; even: over all of it")
    p.add_argument("--video-frames", type=int, default=8, help="frames a video is embedded from (averaged)")
    p.add_argument("--video-mapping", default="even", choices=["central", "even"])
    p.add_argument("--batch-size", type=int, default=8, help="inputs per ONNX Runtime call")
    args = p.parse_args(argv)
    args.size = args.size or ARCHS[args.arch]["size"]
    if args.size % PATCH or args.size < PATCH:
        p.error(f"--size {args.size} is not a multiple of {PATCH}")
    for flag in ("volume_slices", "video_frames", "batch_size"):
        if not 1 <= getattr(args, flag) <= 64:
            p.error(f"--{flag.replace('_', '-')} must be 1 to 64")
    return args


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    args = parse()
    man = export(args)
    print(man)
    print(f"add it: m3ret reindex --library DIR --model {man}   (or import with --model {man})", file=sys.stderr)
