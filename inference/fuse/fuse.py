#!/usr/bin/python3
"""Fuse a learned encoder with a pixel-correlation channel in one ONNX graph.

    pixels [B, 1, T, H, W] (the source model's input, preprocessed by Go as its
    manifest says)
      learned: the source graph, unchanged, its L2-normalised output   -> a [B, D]
      pixels:  mean over T -> average pool to a GRID x GRID image
               -> per-image centring -> L2                             -> p [B, GRID²]
               (--pixels proj: a 48 x 48 pool, per-image standardised,
               a fixed seeded random projection to --proj-dim, L2)
    embedding = L2(concat(sqrt(w) a, sqrt(1 - w) p))   [B, D + GRID²]

--mirror (test-time mirror averaging): a = L2(src(x) + src(flip_W(x))), the
input flipped left-right (a Slice with step -1 on its last axis) run through
a second copy of the source's nodes that depend on it; the copy shares the
source's initializers and constants by name, so the file stays its size.
--mirror-pixels: the pooled image is summed with its left-right flip before
centring, so p is mirror-invariant too (with both, the embedding of x and
of flip_W(x) are the same).

The two parts have unit norm, so the concatenation has unit norm already
and cos(x, y) = w cos(a_x, a_y) + (1 - w) cos(p_x, p_y): the learned
similarity blended with the correlation of the two small images. (The final
L2 only matters when the pixel part is zero: a flat image.) The input, its
preprocessing and the output name are the source model's, so the Go side
loads the result like any model (m3ret model add, --model OUT/NAME.json).

Usage: /usr/bin/python3 inference/fuse/fuse.py --w 0.7 --out OUT [--name NAME]
           [--source assets/models/m3ret-vit.json] [--pixels pool|proj]
           [--grid 12] [--proj-dim 192] [--mirror] [--mirror-pixels]
Writes OUT/NAME.onnx and OUT/NAME.json (the source manifest with the new
name, version, file, sha256, output dim and description). Needs Debian's
python3-onnx and python3-numpy.
"""
import argparse
import hashlib
import json
import math
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SEED = 20260102
PROJ_SIDE = 48
P = "fuse/"  # prefix of every name this script adds


def const(name, value, dtype=np.float32):
    return numpy_helper.from_array(np.asarray(value, dtype=dtype), P + name)


def node(op, ins, outs, **attrs):
    def pre(x):
        return x if x.startswith(P) or x == "pixels" else P + x
    return helper.make_node(op, [pre(i) for i in ins], [pre(o) for o in outs], name=pre(outs[0]), **attrs)


def l2(x, out):
    """Nodes that divide x [B, N] by max(|x|, 1e-12)."""
    return [
        node("ReduceL2", [x], [out + "_norm"], axes=[1], keepdims=1),
        node("Max", [out + "_norm", "eps"], [out + "_normc"]),
        node("Div", [x, out + "_normc"], [out]),
    ]


def pool_channel(inp, side, grid, mirror=False):
    """Mean over T, average pool to grid x grid (plus its left-right flip
    when mirror), centre, L2: [B, grid²]."""
    k = side // grid
    nodes = [
        node("ReduceMean", [inp], ["frames_mean"], axes=[2], keepdims=0),  # [B, C, H, W]
        node("AveragePool", ["frames_mean"], ["pooled_one" if mirror else "pooled"], kernel_shape=[k, k], strides=[k, k]),
    ]
    if mirror:
        nodes += [flip("pooled_one", "pooled_flip", 3), node("Add", ["pooled_one", "pooled_flip"], ["pooled"])]
    nodes += [
        node("Reshape", ["pooled", "flat_shape"], ["flat"]),
        node("ReduceMean", ["flat"], ["flat_mean"], axes=[1], keepdims=1),
        node("Sub", ["flat", "flat_mean"], ["centred"]),
    ]
    return nodes + l2("centred", "pix"), []


def proj_channel(inp, side, dim, mirror=False):
    """Mean over T, pool to 48 x 48, standardise, random projection, L2."""
    n = PROJ_SIDE * PROJ_SIDE
    rng = np.random.default_rng(SEED)
    w = (rng.standard_normal((n, dim)) / math.sqrt(dim)).astype(np.float32)
    nodes, _ = pool_channel(inp, side, PROJ_SIDE, mirror)
    nodes = nodes[:-3] + [node("MatMul", ["centred", "projection"], ["projected"])] + l2("projected", "pix")
    return nodes, [numpy_helper.from_array(w, P + "projection")]


def flip(x, out, axis):
    """A Slice node reversing x along axis."""
    return node("Slice", [x, "flip_start", "flip_end", f"axis{axis}", "flip_step"], [out])


FLIP_INITS = [("flip_start", [-1]), ("flip_end", [-(2**63)]), ("axis3", [3]), ("axis4", [4]), ("flip_step", [-1])]


def mirror_learned(g, inp, learned):
    """Append a copy of the nodes of g that depend on inp, fed inp flipped
    along its last axis, and the nodes of L2(learned + learned copy).
    Returns the new learned name. Initializers and the outputs of nodes that
    do not depend on inp (Constants, ...) are shared by name."""
    renamed = {inp: P + "pixels_flip"}
    copies = [flip(inp, "pixels_flip", 4)]
    for n in g.node:
        if not any(i in renamed for i in n.input):
            continue
        c = onnx.NodeProto()
        c.CopyFrom(n)
        c.name = P + "m/" + n.name
        c.input[:] = [renamed.get(i, i) for i in n.input]
        for o in n.output:
            renamed[o] = P + "m/" + o
        c.output[:] = [renamed[o] for o in n.output]
        copies.append(c)
    copies += [node("Add", [learned, renamed[learned]], ["learned_sum"])] + l2("learned_sum", "learned_mirrored")
    g.node.extend(copies)
    return P + "learned_mirrored"


def fuse(model, w, pixels, grid, proj_dim, mirror=False, mirror_pixels=False):
    g = model.graph
    inp = g.input[0]
    shape = [d.dim_value for d in inp.type.tensor_type.shape.dim]
    side, out_name = shape[3], g.output[0].name
    if shape[1] != 1 or shape[3] != shape[4]:
        raise SystemExit(f"source input {shape}: want [B, 1, T, S, S]")
    learned = P + "learned"
    for n in g.node:
        n.output[:] = [learned if o == out_name else o for o in n.output]
    if side % (grid if pixels == "pool" else PROJ_SIDE):
        raise SystemExit(f"the pixel grid does not divide the input side {side}")
    if mirror:
        learned = mirror_learned(g, inp.name, learned)
    if pixels == "pool":
        nodes, inits = pool_channel(inp.name, side, grid, mirror_pixels)
        pdim = grid * grid
    else:
        nodes, inits = proj_channel(inp.name, side, proj_dim, mirror_pixels)
        pdim = proj_dim
    ldim = model_dim(model)
    nodes += [
        node("Mul", [learned, "sqrt_w"], ["learned_scaled"]),
        node("Mul", ["pix", "sqrt_1mw"], ["pix_scaled"]),
        node("Concat", ["learned_scaled", "pix_scaled"], ["concat"], axis=1),
    ] + l2("concat", "fused")
    nodes[-1].output[0] = out_name
    inits += [
        const("flat_shape", [0, -1], np.int64),
        const("eps", [1e-12]),
        const("sqrt_w", [math.sqrt(w)]),
        const("sqrt_1mw", [math.sqrt(1 - w)]),
    ]
    if mirror or mirror_pixels:
        inits += [const(n, v, np.int64) for n, v in FLIP_INITS]
    g.node.extend(nodes)
    g.initializer.extend(inits)
    del g.output[:]
    g.output.append(helper.make_tensor_value_info(out_name, TensorProto.FLOAT, ["batch", ldim + pdim]))
    onnx.checker.check_model(model)
    return model, ldim + pdim, ldim, pdim


def model_dim(model):
    """The source's embedding dim, from its last Gemm/MatMul weight."""
    inits = {i.name: i for i in model.graph.initializer}
    for n in reversed(model.graph.node):
        if n.op_type in ("Gemm", "MatMul") and n.input[1] in inits:
            dims = list(inits[n.input[1]].dims)
            trans = n.op_type == "Gemm" and any(a.name == "transB" and a.i for a in n.attribute)
            return dims[0] if trans else dims[1]
    raise SystemExit("cannot find the source's embedding dim")


def manifest(src, name, sha, dim, ldim, pdim, w, desc_pixels, mirror):
    m = dict(src)
    m.update(name=name, version="1", file=name + ".onnx", sha256=sha)
    m["output"] = {"name": src["output"]["name"], "dim": dim}
    averaged = ", averaged with its left-right mirror" if mirror else ""
    m["description"] = (f"{src['name']} ({ldim}-d{averaged}, weight {w:g}) fused with a pixel-correlation channel "
                        f"({desc_pixels}, {pdim}-d, weight {1 - w:g}): cosine = {w:g} cos(learned) + "
                        f"{1 - w:g} cos(pixels); source {src['name']}@{src['version']}-{src['sha256'][:12]}")
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--w", type=float, required=True, help="weight of the learned channel, 0..1")
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", help="default m3ret-vit-fused-W")
    ap.add_argument("--source", default=os.path.join(os.path.dirname(__file__), "../../assets/models/m3ret-vit.json"))
    ap.add_argument("--pixels", choices=("pool", "proj"), default="pool")
    ap.add_argument("--grid", type=int, default=12)
    ap.add_argument("--proj-dim", type=int, default=192)
    ap.add_argument("--mirror", action="store_true", help="average the learned channel over the input and its left-right flip")
    ap.add_argument("--mirror-pixels", action="store_true", help="make the pixel channel mirror-invariant too")
    a = ap.parse_args()
    if not 0 <= a.w <= 1:
        raise SystemExit("--w must be in [0, 1]")
    src = json.load(open(a.source))
    data = open(os.path.join(os.path.dirname(a.source), src["file"]), "rb").read()
    if hashlib.sha256(data).hexdigest() != src["sha256"]:
        raise SystemExit(f"{a.source}: the model's sha256 does not match the manifest")
    model, dim, ldim, pdim = fuse(onnx.load_from_string(data), a.w, a.pixels, a.grid, a.proj_dim,
                               a.mirror, a.mirror_pixels)
    name = a.name or f"{src['name']}-fused-{a.w:g}"
    os.makedirs(a.out, exist_ok=True)
    out = model.SerializeToString()
    with open(os.path.join(a.out, name + ".onnx"), "wb") as f:
        f.write(out)
    desc = (f"mean over T, {a.grid}x{a.grid} average pool, centred" if a.pixels == "pool" else
            f"mean over T, {PROJ_SIDE}x{PROJ_SIDE} pool, standardised, seeded random projection (seed {SEED})")
    if a.mirror_pixels:
        desc += ", summed with its left-right mirror"
    man = manifest(src, name, hashlib.sha256(out).hexdigest(), dim, ldim, pdim, a.w, desc, a.mirror)
    with open(os.path.join(a.out, name + ".json"), "w") as f:
        json.dump(man, f, indent=2)
        f.write("\n")
    print(os.path.join(a.out, name + ".json"))


if __name__ == "__main__":
    main()
