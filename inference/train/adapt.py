#!/usr/bin/python3
"""Adapt an encoder to a user's archive: `m3ret adapt` runs this (it writes
the training scripts, embedded in the program, into a scratch folder inside
the library and removes them afterwards).

    adapt.py prepare --onnx MODEL.onnx [--checkpoint MODEL.pt] --template MODEL.json --out DIR
    adapt.py train --data DIR --init DIR/init.pt --template MODEL.json --out DIR --name NAME
                   [--minutes M] [--steps N] [--seed S] [--threads N]

prepare: the PyTorch weights of the library's current model. A model that
adapt.py wrote before has its checkpoint beside its ONNX file (backbone,
SimDINO head, MAE decoder). The shipped model has only its ONNX file: its
backbone and whitening are read back from the ONNX initialisers (names
from train.py's export; the MatMul weights of the attention and MLP layers,
which the exporter renamed and transposed, in graph order; the factorised
position embeddings, which the exporter folded into one [t, h, w, width]
constant, split again into their t, h and w parts, exactly up to the
constant shifts the sum cannot tell apart and that change no output). The
SimDINO head and the MAE decoder were not exported and start afresh. Writes
DIR/init.pt and DIR/init.reference.json: the recovered model's output on
export.py's deterministic input, which `m3ret adapt` compares with ONNX
Runtime's output of the original file before it trains anything.

train: continued self-supervised training as `make train` does its stage 2
(train.py): SimDINO (student and EMA teacher, 2 global and 4 local views,
neighbouring slices as second views) with the MAE loss kept on, from the
recovered weights, for a wall-clock budget (--minutes) or a number of steps
(--steps), whichever ends first; the cosine learning rate follows the
budget. Same learning rate as train.py's stage 2; the teacher's EMA starts
at 0.99 rather than 0.996 (--momentum), since an adaptation on a CPU runs
a few hundred steps and the teacher, which is exported, must follow them.
When the head and decoder start afresh, the first part of the budget
(--warmup, default 15 %) trains them alone with the backbone frozen, so that
their random start does not pull the backbone away from what it knows.
Then the retrieval whitening is fitted again on the library's own arrays
(train.py's stage 3) and the encoder exported (export.py): NAME.onnx,
NAME.json (the current model's manifest with the new name, sha256 and
description), NAME.pt (the checkpoint a later adaptation starts from) and
NAME.log.json (loss curves, timings). A GPU is used when PyTorch sees one.
Lines starting "progress " on stdout say how far training is (done total).
"""
import argparse
import json
import math
import os
import random
import sys
import time
import warnings

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export  # noqa: E402
import train  # noqa: E402
from model import MAEDecoder, ViT4D, Whitened  # noqa: E402


def say(msg):
    print(time.strftime("%H:%M:%S"), msg, flush=True)


# ---- prepare: the current model's weights ----

def onnx_weights(path):
    """The initialisers of an ONNX file by name, the MatMul weights in the
    order the graph uses them, and whether the graph averages with the
    mirrored input (train.py --mirror-average runs the patch embedding
    twice: on the input and on its mirror)."""
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path)
    init = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    matmuls = []
    patch_convs = sum(1 for n in m.graph.node if n.op_type == "Conv" and "vit.patch.weight" in n.input)
    for n in m.graph.node:
        if n.op_type != "MatMul":
            continue
        for name in n.input:
            if name in init and not name.startswith("vit.") and name not in matmuls:
                matmuls.append(name)
    return init, [init[n] for n in matmuls], patch_convs == 2


def split_positions(p):
    """[gt, gh, gw, D] = Pt[t] + Ph[h] + Pw[w] -> (Pt, Ph, Pw): the means
    over the other axes (Ph and Pw centred), which sum back to p exactly when
    it is such a sum."""
    m = p.mean(axis=(0, 1, 2))
    pt = p.mean(axis=(1, 2))
    ph = p.mean(axis=(0, 2)) - m
    pw = p.mean(axis=(0, 1)) - m
    return pt, ph, pw


class NotOurs(Exception):
    """The ONNX file is not an encoder train.py exported."""


def from_onnx(path, frames, size):
    """A ViT4D, its whitening (weight, bias) and whether it averages with
    the mirrored input, read back from an ONNX file that export.py wrote for
    a Whitened model."""
    init, mm, mirror = onnx_weights(path)
    w = init.get("vit.patch.weight")
    if w is None or w.ndim != 5 or "proj.weight" not in init:
        raise NotOurs("its ONNX file holds no M3Ret ViT (no vit.patch.weight and proj.weight): "
                      "only models that `make train` or `m3ret adapt` made can be adapted")
    width, channels, tubelet = w.shape[0], w.shape[1], tuple(int(v) for v in w.shape[2:])
    depth = 0
    while "vit.blocks.%d.n1.weight" % depth in init:
        depth += 1
    if len(mm) != 3 * depth:
        raise NotOurs("its ONNX file has %d MatMul weights for %d blocks, not 3 each" % (len(mm), depth))
    vit = ViT4D(channels=channels, frames=frames, size=size, tubelet=tubelet, width=width, depth=depth,
                heads=max(1, width // 64))
    grid = vit.grid
    pos = []
    for v in init.values():  # a mirror-averaged graph folds the same constant twice
        if tuple(v.shape) == tuple(grid) + (width,) and not any(np.array_equal(v, p) for p in pos):
            pos.append(v)
    if len(pos) != 1:
        raise NotOurs("its ONNX file has no single position-embedding constant of shape %s" % (tuple(grid) + (width,),))
    sd = {k[len("vit."):]: torch.from_numpy(np.array(v)) for k, v in init.items() if k.startswith("vit.")}
    pt, ph, pw = split_positions(pos[0].astype(np.float64))
    sd["pos_t"], sd["pos_h"], sd["pos_w"] = (torch.from_numpy(v.astype(np.float32)) for v in (pt, ph, pw))
    for i in range(depth):
        a, b, c = mm[3 * i: 3 * i + 3]
        if a.shape != (width, 3 * width) or b.shape[0] != width or c.shape != (b.shape[1], width):
            raise NotOurs("block %d's weights have unexpected shapes %s %s %s" % (i, a.shape, b.shape, c.shape))
        sd["blocks.%d.attn.in_proj_weight" % i] = torch.from_numpy(a.T.copy())
        sd["blocks.%d.mlp.0.weight" % i] = torch.from_numpy(b.T.copy())
        sd["blocks.%d.mlp.2.weight" % i] = torch.from_numpy(c.T.copy())
    own = vit.state_dict()
    missing = [k for k in own if k not in sd and not k.startswith("head.")]
    extra = [k for k in sd if k not in own]
    if missing or extra:
        raise NotOurs("its ONNX weights do not fit the ViT (missing %s, unexpected %s)" % (missing[:3], extra[:3]))
    for k, v in own.items():
        if k.startswith("head."):
            sd[k] = v
        elif tuple(sd[k].shape) != tuple(v.shape):
            raise NotOurs("weight %s has shape %s, the ViT wants %s" % (k, tuple(sd[k].shape), tuple(v.shape)))
    vit.load_state_dict(sd)
    proj = (torch.from_numpy(np.array(init["proj.weight"])), torch.from_numpy(np.array(init["proj.bias"])))
    return vit, proj, mirror


def arch(vit):
    return {"channels": vit.channels, "frames": vit.frames, "size": vit.size, "tubelet": list(vit.tubelet),
            "width": vit.width, "depth": len(vit.blocks), "heads": vit.blocks[0].attn.num_heads, "dim": vit.dim}


def build(a):
    return ViT4D(channels=a["channels"], frames=a["frames"], size=a["size"], tubelet=tuple(a["tubelet"]),
                 width=a["width"], depth=a["depth"], heads=a["heads"], dim=a["dim"])


def prepare(a):
    tmpl = json.load(open(a.template))
    shape = [int(s) for s in tmpl["input"]["shape"]]
    torch.manual_seed(a.seed)
    if a.checkpoint:
        ck = torch.load(a.checkpoint, map_location="cpu")
        vit = build(ck["arch"])
        vit.load_state_dict(ck["vit"])
        proj, decoder, source = (ck["proj_weight"], ck["proj_bias"]), ck.get("decoder"), "checkpoint"
        mirror = ck.get("mirror", False)
    else:
        vit, proj, mirror = from_onnx(a.onnx, shape[2], shape[3])
        decoder, source = None, "onnx"
    if [vit.channels, vit.frames, vit.size, vit.size] != shape[1:]:
        raise NotOurs("the model takes %s, its manifest says %s" % ([vit.channels, vit.frames, vit.size], shape[1:]))
    os.makedirs(a.out, exist_ok=True)
    enc = Whitened(vit, *proj, mirror=mirror)
    torch.save({"arch": arch(vit), "vit": vit.state_dict(), "proj_weight": proj[0], "proj_bias": proj[1],
                "decoder": decoder, "fresh_head": source == "onnx", "mirror": mirror}, os.path.join(a.out, "init.pt"))
    x = torch.from_numpy(export.lcg_input([2] + shape[1:]))
    with torch.no_grad():
        ref = enc.eval()(x)
    with open(os.path.join(a.out, "init.reference.json"), "w") as f:
        json.dump({"input": "lcg", "shape": [2] + shape[1:], "source": source,
                   "embedding": [[float(v) for v in row] for row in ref.numpy()]}, f)
    say("recovered the model's weights from its %s (%s)" % ("checkpoint" if a.checkpoint else "ONNX file",
                                                             "head and decoder kept" if decoder else "head and decoder new"))


# ---- train: continued SimDINO + MAE on the library's arrays ----

def dino_loss(vit, teacher, items, groups, a, dev, aug):
    """One SimDINO batch, as train.py's stage 2: alignment of every student
    view to the teacher's other global view, minus the coding rate."""
    B = a.batch
    sel = random.choices(range(len(items)), k=B)
    sel2 = [train.neighbour(groups, i, 2) if random.random() < 0.9 else i for i in sel]
    g1 = torch.stack([train.view(items[i], train.SIZE, (0.4, 1.0), aug) for i in sel]).to(dev)
    g2 = torch.stack([train.view(items[j], train.SIZE, (0.4, 1.0), aug) for j in sel2]).to(dev)
    locs = torch.stack([train.view(items[(i, j)[k % 2]], train.LOCAL, (0.08, 0.4), aug)
                        for i, j in zip(sel, sel2) for k in range(4)]).to(dev)
    with torch.no_grad():
        tz = teacher(torch.cat([g1, g2]))
    t1, t2 = tz[:B], tz[B:]
    s = vit(torch.cat([g1, g2]))
    s1, s2 = s[:B], s[B:]
    sl = vit(locs).view(B, 4, -1)
    align = ((s1 - t2) ** 2).sum(-1).mean() + ((s2 - t1) ** 2).sum(-1).mean()
    align = (align + ((sl - t1[:, None]) ** 2).sum(-1).mean() + ((sl - t2[:, None]) ** 2).sum(-1).mean()) / 4
    rate = 0.5 * (train.coding_rate(s1, 0.5) + train.coding_rate(s2, 0.5))
    return align - rate / B, align, rate


def run_training(vit, dec, items, a, dev, fresh, log):
    """Warm-up of the fresh head and decoder (backbone frozen), then joint
    SimDINO + MAE; returns the EMA teacher."""
    teacher = build(arch(vit)).to(dev)
    teacher.load_state_dict(vit.state_dict())
    for p in teacher.parameters():
        p.requires_grad_(False)
    groups = train.slice_groups([e for _, e in items])
    aug = train.AUG["strong"]
    backbone = [p for n, p in vit.named_parameters() if not n.startswith("head.")]
    fresh_params = list(vit.head.parameters()) + list(dec.parameters())
    warm = a.warmup if fresh else 0.0
    opt = torch.optim.AdamW(backbone + fresh_params, lr=a.lr, betas=(0.9, 0.999), weight_decay=0.04)
    t0, step, joint = time.time(), 0, None
    budget = a.minutes * 60
    while step < a.steps:
        prog = max(step / a.steps, (time.time() - t0) / budget)
        if prog >= 1:
            break
        warming = prog < warm
        for p in backbone:
            p.requires_grad_(not warming)
        if warming:
            lr, later = a.lr * 3, 0.0
        else:
            joint = step if joint is None else joint
            later = (prog - warm) / (1 - warm)  # the joint stage's own progress, for its schedules
            lr = a.lr * min(1.0, (step - joint + 1) / 20) * 0.5 * (1 + math.cos(math.pi * later))
        for g in opt.param_groups:
            g["lr"] = lr
        loss, align, rate = dino_loss(vit, teacher, items, groups, a, dev, aug)
        mae = train.mae_loss(vit, dec, train.batch(items, a.batch, train.SIZE, (0.4, 1.0), train.AUG["mae"]).to(dev))
        loss = loss + mae
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(backbone + fresh_params, 3.0)
        opt.step()
        mom = 0.0 if warming else 1.0 - (1.0 - a.momentum) * 0.5 * (1 + math.cos(math.pi * later))
        with torch.no_grad():
            for pt, ps in zip(teacher.parameters(), vit.parameters()):
                pt.mul_(mom).add_(ps.detach(), alpha=1 - mom)
        if step % 10 == 0:
            log["steps"].append({"step": step, "seconds": round(time.time() - t0, 1), "warmup": warming,
                                 "loss": round(loss.item(), 4), "align": round(align.item(), 4),
                                 "rate": round(rate.item(), 3), "mae": round(mae.item(), 4)})
            say("step %d%s loss %.4f align %.4f rate %.2f mae %.4f lr %.2e" % (
                step, " (warm-up)" if warming else "", loss.item(), align.item(), rate.item(), mae.item(), lr))
        step += 1
        print("progress %d %d" % (min(999, int(prog * 1000)), 1000), flush=True)
    log["train_steps"], log["train_seconds"] = step, round(time.time() - t0, 1)
    log["warmup_steps"] = step if joint is None else joint
    print("progress 1000 1000", flush=True)
    return teacher


def adapt(a):
    # One thread a physical core at most (two cores, shared, trained 1.7 times
    # faster on one thread than on two: make train's finding too).
    torch.set_num_threads(a.threads or max(1, min(8, (os.cpu_count() or 2) // 2)))
    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    items, _ = train.load(a.data)
    ck = torch.load(a.init, map_location="cpu")
    vit = build(ck["arch"]).to(dev)
    vit.load_state_dict(ck["vit"])
    dec = MAEDecoder(vit).to(dev)
    fresh = ck.get("decoder") is None
    if not fresh:
        dec.load_state_dict(ck["decoder"])
    log = {"from": a.source, "seed": a.seed, "device": str(dev), "threads": torch.get_num_threads(), "arrays": len(items),
           "minutes": a.minutes, "fresh_head_and_decoder": fresh, "steps": []}
    say("%d arrays; training on %s for %.1f minutes%s" % (len(items), dev, a.minutes,
                                                           " (the first %d %% head and decoder only)" % (a.warmup * 100) if fresh else ""))
    teacher = run_training(vit, dec, items, a, dev, fresh, log)
    enc, info = train.whiten(teacher, items, 0.1, dev, ck.get("mirror", False))
    log["whitening"] = info
    desc = ("%s adapted by m3ret adapt to the items of the library it lies in: SimDINO + MAE, %d steps, %.0f s on %s, "
            "%d arrays; whitened on them" % (a.source, log["train_steps"], log["train_seconds"], dev, len(items)))
    os.makedirs(a.out, exist_ok=True)
    tmpl = json.load(open(a.template))
    tmpl["licence"] = (tmpl.get("licence", "") + "; then adapted (m3ret adapt) on the images of the library it lies in: "
                       "it learnt from them, keep it with them").lstrip("; ")
    template = os.path.join(a.out, "template.json")
    with open(template, "w") as f:
        json.dump(tmpl, f)
    with warnings.catch_warnings():  # the tracer's notes on the position interpolation, unused at the exported size
        warnings.simplefilter("ignore")
        export.export(enc, template, a.out, a.name, desc, version="1")
    torch.save({"arch": arch(teacher), "vit": {k: v.cpu() for k, v in teacher.state_dict().items()},
                "proj_weight": enc.proj.weight.detach().cpu(), "proj_bias": enc.proj.bias.detach().cpu(),
                "decoder": {k: v.cpu() for k, v in dec.state_dict().items()}, "mirror": enc.mirror},
               os.path.join(a.out, a.name + ".pt"))
    with open(os.path.join(a.out, a.name + ".log.json"), "w") as f:
        json.dump(log, f, indent=1)
    say("exported %s" % a.name)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--onnx")
    p.add_argument("--checkpoint")
    p.add_argument("--template", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=20260107)
    t = sub.add_parser("train")
    t.add_argument("--data", required=True)
    t.add_argument("--init", required=True)
    t.add_argument("--template", required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--name", required=True)
    t.add_argument("--from", dest="source", default="an M3Ret ViT", help="the id of the model adapted (for the description)")
    t.add_argument("--minutes", type=float, default=30)
    t.add_argument("--steps", type=int, default=1000000)
    t.add_argument("--warmup", type=float, default=0.15, help="share of the budget for the fresh head and decoder alone")
    t.add_argument("--batch", type=int, default=24)
    t.add_argument("--lr", type=float, default=2e-4, help="peak learning rate (train.py's --dino-lr)")
    t.add_argument("--momentum", type=float, default=0.99,
                   help="the EMA teacher's starting momentum, cosine to 1 (train.py: 0.996 over its stage; "
                        "an adaptation runs a few hundred steps, and the exported teacher must follow them)")
    t.add_argument("--seed", type=int, default=20260107)
    t.add_argument("--threads", type=int, default=0, help="CPU threads (0: half the CPUs, at most 8)")
    a = ap.parse_args()
    try:
        if a.cmd == "prepare":
            if not a.onnx and not a.checkpoint:
                ap.error("prepare needs --onnx or --checkpoint")
            prepare(a)
        else:
            adapt(a)
    except NotOurs as e:
        print("adapt: this model cannot be adapted: %s" % e, file=sys.stderr)
        sys.exit(3)
    except KeyboardInterrupt:
        print("adapt: interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
