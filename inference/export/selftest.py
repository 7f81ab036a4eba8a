#!/usr/bin/python3
"""Self-test of an exporter without the published weights (none can be
downloaded here): builds a randomly initialised checkpoint whose tensor names
and shapes are exactly those of the official file, checks that our module's
state dict has exactly those names and shapes, saves it in the format the
user downloads (.pth for DINOv2; model.safetensors and pytorch_model.bin for
RAD-DINO), and runs the exporter on it as a user would (a child process).

  python3 inference/export/selftest.py --arch dinov2_vits14 --out DIR

prints the manifest path; test_exporters.sh then checks ONNX Runtime against
the PyTorch reference (Go) and imports and queries with the model (m3ret).

The expected names and shapes below are written from the upstream code:
facebookresearch/dinov2 dinov2/models/vision_transformer.py (vit_small /
vit_base / vit_large, img_size 518, patch 14, init_values 1.0 so LayerScale
is present, block_chunks 0 so blocks.N, mask_token [1, D], register_tokens
[1, 4, D] for the _reg models, patch_embed.norm an Identity, head an
Identity) and dinov2/layers/{attention,block,layer_scale,mlp,patch_embed}.py;
transformers models/dinov2/modeling_dinov2.py (Dinov2Model with
use_mask_token, qkv_bias, mlp_ratio 4, no SwiGLU) and its conversion script
convert_dinov2_to_hf.py (qkv rows = query, key, value).
"""
import argparse
import os
import subprocess
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, HERE)
from checkpoint import read_checkpoint, write_safetensors  # noqa: E402
from export import ARCHS, build, load  # noqa: E402
from vit import DinoV2, Embedder  # noqa: E402

POSITIONS = 1 + 37 * 37  # 518 px / 14


def expected_dinov2(dim, depth, registers):
    """Names and shapes of dinov2_vit{s,b,l}14[_reg4]_pretrain.pth."""
    want = {
        "cls_token": (1, 1, dim),
        "pos_embed": (1, POSITIONS, dim),
        "mask_token": (1, dim),
        "patch_embed.proj.weight": (dim, 3, 14, 14),
        "patch_embed.proj.bias": (dim,),
        "norm.weight": (dim,),
        "norm.bias": (dim,),
    }
    if registers:
        want["register_tokens"] = (1, registers, dim)
    for i in range(depth):
        b = f"blocks.{i}."
        want.update({
            b + "norm1.weight": (dim,), b + "norm1.bias": (dim,),
            b + "attn.qkv.weight": (3 * dim, dim), b + "attn.qkv.bias": (3 * dim,),
            b + "attn.proj.weight": (dim, dim), b + "attn.proj.bias": (dim,),
            b + "ls1.gamma": (dim,),
            b + "norm2.weight": (dim,), b + "norm2.bias": (dim,),
            b + "mlp.fc1.weight": (4 * dim, dim), b + "mlp.fc1.bias": (4 * dim,),
            b + "mlp.fc2.weight": (dim, 4 * dim), b + "mlp.fc2.bias": (dim,),
            b + "ls2.gamma": (dim,),
        })
    return want


def expected_hf(dim, depth):
    """Names and shapes of a transformers Dinov2Model's model.safetensors."""
    want = {
        "embeddings.cls_token": (1, 1, dim),
        "embeddings.mask_token": (1, dim),
        "embeddings.position_embeddings": (1, POSITIONS, dim),
        "embeddings.patch_embeddings.projection.weight": (dim, 3, 14, 14),
        "embeddings.patch_embeddings.projection.bias": (dim,),
        "layernorm.weight": (dim,),
        "layernorm.bias": (dim,),
    }
    for i in range(depth):
        b = f"encoder.layer.{i}."
        want.update({
            b + "norm1.weight": (dim,), b + "norm1.bias": (dim,),
            b + "attention.attention.query.weight": (dim, dim), b + "attention.attention.query.bias": (dim,),
            b + "attention.attention.key.weight": (dim, dim), b + "attention.attention.key.bias": (dim,),
            b + "attention.attention.value.weight": (dim, dim), b + "attention.attention.value.bias": (dim,),
            b + "attention.output.dense.weight": (dim, dim), b + "attention.output.dense.bias": (dim,),
            b + "layer_scale1.lambda1": (dim,),
            b + "norm2.weight": (dim,), b + "norm2.bias": (dim,),
            b + "mlp.fc1.weight": (4 * dim, dim), b + "mlp.fc1.bias": (4 * dim,),
            b + "mlp.fc2.weight": (dim, 4 * dim), b + "mlp.fc2.bias": (dim,),
            b + "layer_scale2.lambda1": (dim,),
        })
    return want


# Parameter counts of the official models as the DINOv2 README rounds them
# (21 M, 86 M, 300 M; RAD-DINO is a ViT-B): ours, without mask_token, are
# within 6 % (22.06 M, 86.58 M, 304.4 M).
PARAMS_M = {"dinov2_vits14": 21, "dinov2_vitb14": 86, "dinov2_vitl14": 300, "rad-dino": 86}


def expected(arch):
    a = ARCHS[arch]
    if a["layout"] == "hf":
        return expected_hf(a["dim"], a["depth"])
    return expected_dinov2(a["dim"], a["depth"], a["registers"])


def check_keys(arch, model):
    want = expected(arch)
    got = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    wrong = sorted(k for k in want if k in got and got[k] != want[k])
    assert not (missing or extra or wrong), f"{arch}: missing {missing[:5]} extra {extra[:5]} wrong shape {wrong[:5]}"
    n = sum(v.numel() for k, v in model.state_dict().items() if not k.endswith("mask_token"))
    base = arch.replace("_reg", "")
    assert abs(n / 1e6 / PARAMS_M[base] - 1) < 0.06, f"{arch}: {n / 1e6:.2f} M parameters, the release says {PARAMS_M[base]} M"
    return len(want), n


def random_state(model, seed):
    """Random values for every tensor, large enough that the embedding
    depends on the image (so import and query test something)."""
    g = torch.Generator().manual_seed(seed)
    sd = {}
    for k, v in model.state_dict().items():
        if k.endswith(("gamma", "lambda1")):
            t = 0.2 + 0.8 * torch.rand(v.shape, generator=g)
        elif "norm" in k and k.endswith("weight"):
            t = 1 + 0.1 * torch.randn(v.shape, generator=g)
        elif k.endswith("bias"):
            t = 0.02 * torch.randn(v.shape, generator=g)
        elif k.endswith(("pos_embed", "position_embeddings")):
            t = 0.5 * torch.randn(v.shape, generator=g)
        else:
            t = 0.05 * torch.randn(v.shape, generator=g)
        sd[k] = t.float()
    return sd


def hf_to_dinov2(sd):
    """The inverse of transformers' convert_dinov2_to_hf.py renaming."""
    out = {}
    for k, v in sd.items():
        k2 = (k.replace("embeddings.cls_token", "cls_token").replace("embeddings.mask_token", "mask_token")
              .replace("embeddings.position_embeddings", "pos_embed")
              .replace("embeddings.patch_embeddings.projection", "patch_embed.proj")
              .replace("encoder.layer.", "blocks.").replace("attention.output.dense", "attn.proj")
              .replace("layer_scale1.lambda1", "ls1.gamma").replace("layer_scale2.lambda1", "ls2.gamma")
              .replace("layernorm.", "norm."))
        out[k2] = v
    for i in range(max(int(k.split(".")[1]) for k in out if k.startswith("blocks.")) + 1):
        b = f"blocks.{i}.attention.attention."
        for part in ("weight", "bias"):
            out[f"blocks.{i}.attn.qkv.{part}"] = torch.cat([out.pop(b + n + "." + part) for n in ("query", "key", "value")])
    return out


def cross_check_hf(model, sd):
    """RAD-DINO's layout computes what the DINOv2 layout computes, given the
    documented renaming: the two modules agree at the training grid."""
    a = ARCHS["rad-dino"]
    model.load_state_dict(sd, strict=True)
    ref = DinoV2(a["dim"], a["depth"], a["heads"])
    ref.load_state_dict(hf_to_dinov2(sd), strict=True)
    x = torch.rand(2, 3, 1, 518, 518, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        d = (Embedder(model.eval(), 518, "cls+mean", *a["norm"])(x) - Embedder(ref.eval(), 518, "cls+mean", *a["norm"])(x))
    assert d.abs().max() < 1e-5, f"HF and DINOv2 layouts differ by {d.abs().max():.3g}"
    return float(d.abs().max())


def check_refusals(arch, sd, out):
    """A checkpoint of another shape is refused, saying what differs; one
    saved from a wrapper (every name prefixed) is read."""
    first = next(k for k in sd if ".0." in k)
    pos = "embeddings.position_embeddings" if "embeddings.position_embeddings" in sd else "pos_embed"
    cases = {
        "missing": {k: v for k, v in sd.items() if k != first},
        "unexpected": dict(sd, **{"head.weight": torch.zeros(3)}),
        "wrong shape": dict(sd, **{pos: torch.zeros(1, 257, sd[pos].shape[-1])}),
    }
    path = os.path.join(out, "refused.pth")
    for word, bad in cases.items():
        torch.save(bad, path)
        try:
            load(arch, path)
        except SystemExit as e:
            assert word in str(e), f"{arch}: refusal does not say {word!r}: {e}"
        else:
            raise AssertionError(f"{arch}: a checkpoint with {word} tensors was loaded")
    torch.save({"module." + k: v for k, v in sd.items()}, path)
    load(arch, path)
    os.remove(path)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--arch", required=True, choices=sorted(ARCHS))
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=20260120)
    p.add_argument("--size", type=int, help="passed to export.py")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    model = build(args.arch)
    keys, params = check_keys(args.arch, model)
    sd = random_state(model, args.seed)
    a = ARCHS[args.arch]
    weights = os.path.join(args.out, a["weights"])
    if a["layout"] == "hf":
        write_safetensors(weights, sd, {"format": "pt"})
        bin_path = os.path.join(args.out, "pytorch_model.bin")
        torch.save(sd, bin_path)
        st, pt = read_checkpoint(weights), read_checkpoint(bin_path)
        assert st.keys() == pt.keys() and all(torch.equal(st[k], pt[k]) for k in st), "safetensors and .bin differ"
        os.remove(bin_path)
        diff = cross_check_hf(model, sd)
        print(f"selftest {args.arch}: HF layout = DINOv2 layout within {diff:.2g}", file=sys.stderr)
    else:
        torch.save(sd, weights)
    check_refusals(args.arch, sd, args.out)
    print(f"selftest {args.arch}: {keys} tensors, {params / 1e6:.2f} M parameters, names and shapes as released",
          file=sys.stderr)
    cmd = [sys.executable, os.path.join(HERE, "export.py"), "--arch", args.arch, "--weights", weights, "--out", args.out]
    if args.size:
        cmd += ["--size", str(args.size)]
    res = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True)
    os.remove(weights)
    print(res.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
