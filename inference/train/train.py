#!/usr/bin/python3
"""Train the encoder from scratch: MAE, then SimDINO, then the retrieval
whitening; export ONNX.

    /usr/bin/python3 inference/train/train.py --data DIR --out DIR
        [--mae-minutes M] [--dino-minutes M] [--seed S] [--init mae.pt] ...

DIR is what `m3ret dataset` wrote (index.json + .npy arrays preprocessed
by the Go inference code at --size 128, T = 16 for volumes and videos).
Each stage runs for a fixed wall-clock budget (so `make train` fits 90
minutes on a 2-core CPU) or a fixed number of steps (--mae-steps,
--dino-steps), whichever comes first. A GPU is used when present.

Writes into --out: m3ret-vit-random (the seeded initial model),
m3ret-vit-mae (after stage 1), m3ret-vit-simdino (after stage 2, not
whitened) and m3ret-vit (the shipped encoder), each .onnx/.json/.reference.json
and each but -simdino through its own stage-3 whitening; checkpoints
(mae.pt, mae-decoder.pt, m3ret-vit-simdino.pt), and log.json (loss curves,
timings, seed, commit). --init mae.pt starts from a stage-1 checkpoint;
with --mae-minutes 0 it skips stage 1 (for stage-2 trials). SimDINO keeps
the MAE loss on beside its own (--mae-weight, default 1).

Stage 1, MAE (He et al. 2021): 75% of the spatial token positions masked,
the same positions across time (tube masking, so the repeated frames of a
2D image cannot leak the answer); the encoder sees the visible 25% only; a
light decoder (2 blocks, width 128) predicts every masked tubelet's pixels,
normalised per tubelet (mean/std); MSE over masked tokens.

Stage 2, SimDINO (Wu et al. 2025, arXiv 2502.10385): student and EMA
teacher (the encoder with its embedding head, initialised from stage 1);
multi-crop: 2 global views (96 px) and 4 local views (48 px) per item; the
teacher sees the global views. Loss = alignment (mean squared Euclidean
distance between the L2-normalised student embedding of every view and the
teacher embedding of every other global view) - gamma * coding rate
R_eps(Z) = 1/2 logdet(I + d/(n eps^2) Z^T Z) of the student's global-view
embeddings (which keeps the embeddings from collapsing). No centring, no
sharpening, no prototypes.

Stage 3, whitening: shrunk PCA whitening of the teacher's pooled features,
fitted on the training arrays, exported as the projection (see whiten).

Augmentation (per view, in PyTorch; every frame of a view alike): rotation
about the centre, zoom-out into an empty frame and random resized crops
(multi-scale), horizontal flips, intensity window jitter (shift and scale
of the normalised intensities, clipped to [0, 1]), gamma, Gaussian blur,
Gaussian noise; for modality invariance, at most one of a random monotone
intensity curve, a random non-monotone one (inversion included), histogram
matching to an array of another source, and an edge (gradient) view; and
slice/frame jitter: which of the stored frames fill T (and contiguous
sub-ranges of them) for volumes and videos, and nearby slices of the same
volume and plane as the second view (--neighbour). Strengths in AUG.
"""
import argparse
import json
import math
import os
import random
import re
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import MAEDecoder, Pooled, ViT4D, Whitened, patchify, pooled  # noqa: E402
import export  # noqa: E402

T, SIZE, LOCAL = 8, 96, 48


def load(data):
    idx = json.load(open(os.path.join(data, "index.json")))
    items = []
    for e in idx["entries"]:
        a = np.load(os.path.join(data, e["file"])).astype(np.float32)
        items.append((torch.from_numpy(a), e))
    hist_targets(items)
    return items, idx


def slice_groups(entries):
    """For every array, the arrays that are slices of the same volume in the
    same plane (or frames of the same clip), in order, and its place among
    them: [(members, position)]. Slices prepare_data.py cut from one NIfTI
    volume are named BASE_vV_PLANE_NNN.png; slices and frames `m3ret
    dataset` wrote share a source and say "slice N" / "frame N"."""
    keys = []
    for e in entries:
        src, der = e["source"], e.get("derived", "")
        m = re.match(r"(.*_v\d+_[a-z]+)_(\d+)\.png$", src)
        if m:
            keys.append((m.group(1), int(m.group(2))))
        elif der:
            keys.append((src, int(der.split()[-1])))
        else:
            keys.append((None, 0))
    byk = {}
    for i, (k, n) in enumerate(keys):
        if k is not None:
            byk.setdefault(k, []).append((n, i))
    out = []
    for i, (k, _) in enumerate(keys):
        if k is None or len(byk[k]) < 2:
            out.append(([i], 0))
            continue
        members = [j for _, j in sorted(byk[k])]
        out.append((members, members.index(i)))
    return out


def neighbour(groups, i, reach):
    """Index of a slice of i's volume and plane at most `reach` places away
    (not i itself when there is another), or i when it has none."""
    members, pos = groups[i]
    if len(members) < 2:
        return i
    lo, hi = max(0, pos - reach), min(len(members) - 1, pos + reach)
    j = pos
    while j == pos:
        j = random.randint(lo, hi)
    return members[j]


def pick_frames(a, kind):
    """T frames of a stored array [F, S, S]: a 2D image repeated; a volume or
    video with slice/frame jitter and, half the time, a contiguous sub-range."""
    Fr = a.shape[0]
    if Fr == 1:
        return a.expand(T, -1, -1)
    if random.random() < 0.5:
        span = random.uniform(0.5, 1.0) * Fr
        start = random.uniform(0, Fr - span)
    else:
        span, start = Fr, 0.0
    pos = [start + (t + random.uniform(0.1, 0.9)) * span / T for t in range(T)]
    idx = [min(Fr - 1, max(0, int(p))) for p in pos]
    return a[idx]


def crop(a, out, scale):
    """Random resized crop of [T, S, S] to [T, out, out]."""
    S = a.shape[-1]
    for _ in range(10):
        s = random.uniform(*scale) * S * S
        r = math.exp(random.uniform(math.log(3 / 4), math.log(4 / 3)))
        w, h = int(round(math.sqrt(s * r))), int(round(math.sqrt(s / r)))
        if 4 <= w <= S and 4 <= h <= S:
            break
    else:
        w = h = S
    x0, y0 = random.randint(0, S - w), random.randint(0, S - h)
    c = a[None, :, y0:y0 + h, x0:x0 + w]
    mode = "area" if h >= out and w >= out else "bilinear"
    kw = {} if mode == "area" else {"align_corners": False}
    return F.interpolate(c, size=(out, out), mode=mode, **kw)[0]


# Augmentation strengths: "mae" for stage 1; "strong" and "mild" for the
# SimDINO views (--jitter). Window: shift and width ranges of the
# normalised intensities; gamma: log range; blur: probability; noise: max
# sigma, noise_p its probability; vflip: probability of a vertical flip
# (none by default: studies are shown head up, and an upside-down coronal
# or sagittal slice never comes in). Geometry: rotate (degrees either way)
# with probability rot_p, about the centre; zoomout: probability of
# shrinking the picture to zoom (area share range) inside an empty frame,
# the other way from a crop (multi-scale). Modality invariance (one at most
# per view, before the window jitter): curve, a random monotone intensity
# curve; nonmono, a random non-monotone one (contrasts that reorder tissues,
# T1 against T2/PD, inversion included); histmatch, the histogram of an
# array of another series (histogram matching between sources); edge, an
# edge view (Sobel gradient magnitude, alone or blended with the picture).
AUG = {
    "mae": {"shift": (-0.05, 0.1), "width": (0.85, 1.15), "gamma": 0.15, "blur": 0.0, "noise": 0.02, "noise_p": 0.3,
            "vflip": 0.0, "rotate": 20, "rot_p": 0.3, "zoomout": 0.0, "zoom": (0.5, 1.0),
            "curve": 0.1, "nonmono": 0.0, "histmatch": 0.0, "edge": 0.0},
    "mild": {"shift": (-0.05, 0.1), "width": (0.8, 1.2), "gamma": 0.2, "blur": 0.3, "noise": 0.03, "noise_p": 0.3,
             "vflip": 0.0, "rotate": 10, "rot_p": 0.3, "zoomout": 0.1, "zoom": (0.6, 1.0),
             "curve": 0.1, "nonmono": 0.05, "histmatch": 0.05, "edge": 0.05},
    "strong": {"shift": (-0.15, 0.2), "width": (0.6, 1.3), "gamma": 0.4, "blur": 0.3, "noise": 0.06, "noise_p": 0.5,
               "vflip": 0.0, "rotate": 25, "rot_p": 0.6, "zoomout": 0.2, "zoom": (0.5, 1.0),
               "curve": 0.15, "nonmono": 0.12, "histmatch": 0.12, "edge": 0.08},
}


def intensity(x, aug):
    if random.random() < 0.8:
        lo, wd = random.uniform(*aug["shift"]), random.uniform(*aug["width"])
        x = ((x - lo) / wd).clamp(0, 1)
    if random.random() < 0.5:
        x = x.clamp(min=0) ** math.exp(random.uniform(-aug["gamma"], aug["gamma"]))
    if random.random() < aug["blur"]:
        s = random.uniform(0.3, 1.2)
        k = torch.arange(-2, 3, dtype=torch.float32)
        k = torch.exp(-k ** 2 / (2 * s * s))
        k = k / k.sum()
        y = x[:, None]
        y = F.conv2d(F.pad(y, (2, 2, 0, 0), mode="replicate"), k.view(1, 1, 1, 5))
        y = F.conv2d(F.pad(y, (0, 0, 2, 2), mode="replicate"), k.view(1, 1, 5, 1))
        x = y[:, 0]
    if random.random() < aug.get("noise_p", 0.3):
        x = x + torch.randn_like(x) * random.uniform(0.0, aug["noise"])
    return x


def rotate(x, degrees):
    """Rotate [T, H, W] about its centre (bilinear); what comes in from
    outside is 0, the background the 1/99 percentile scaling gives."""
    r = math.radians(degrees)
    c, s = math.cos(r), math.sin(r)
    theta = torch.tensor([[c, -s, 0.0], [s, c, 0.0]], dtype=x.dtype)[None]
    grid = F.affine_grid(theta, [1, x.shape[0], x.shape[1], x.shape[2]], align_corners=False)
    return F.grid_sample(x[None], grid, mode="bilinear", padding_mode="zeros", align_corners=False)[0]


def zoom_out(x, share):
    """Shrink [T, S, S] to `share` of its area, placed at random in an empty
    frame of the same size: the anatomy smaller in the field of view."""
    S = x.shape[-1]
    n = max(8, int(round(S * math.sqrt(share))))
    small = F.interpolate(x[None], size=(n, n), mode="area")[0]
    out = torch.zeros_like(x)
    y0, x0 = random.randint(0, S - n), random.randint(0, S - n)
    out[:, y0:y0 + n, x0:x0 + n] = small
    return out


def geometry(x, aug):
    """Rotation and zoom-out of the whole stored array, before the crop."""
    if random.random() < aug.get("rot_p", 0.0):
        x = rotate(x, random.uniform(-aug["rotate"], aug["rotate"]))
    if random.random() < aug.get("zoomout", 0.0):
        x = zoom_out(x, random.uniform(*aug["zoom"]))
    return x


def interp(x, xp, fp):
    """np.interp for tensors: piecewise-linear through (xp, fp), xp
    non-decreasing; flat beyond the ends."""
    i = torch.searchsorted(xp, x.reshape(-1).contiguous(), right=True).clamp(1, len(xp) - 1)
    x0, x1, y0, y1 = xp[i - 1], xp[i], fp[i - 1], fp[i]
    f = ((x.reshape(-1) - x0) / (x1 - x0).clamp(min=1e-6)).clamp(0, 1)
    return (y0 + f * (y1 - y0)).reshape(x.shape)


def random_curve(monotone):
    """Knots (xs, ys) over [0, 1] of a random intensity curve: monotone
    (increasing, or now and then decreasing) or not; the same for every
    frame of a view."""
    k = random.randint(3, 7)
    xs = torch.linspace(0, 1, k)
    if monotone:
        steps = torch.distributions.Exponential(1.0).sample((k - 1,))
        ys = torch.cat([torch.zeros(1), steps.cumsum(0)])
        ys = ys / ys[-1]
        if random.random() < 0.2:
            ys = 1 - ys
    elif random.random() < 0.25:
        ys = 1 - xs  # inversion: dark fluid bright, bright fat dark
    else:
        ys = torch.rand(k)
    return xs, ys


# Histogram-matching targets: for every array load() read, its intensity
# quantiles and its source (the target is an array of another source).
HIST_Q = torch.linspace(0, 1, 33)
HIST = []


def source_of(e):
    """The file an array comes from: the volume of a slice prepare_data.py
    cut (BASE_vV_PLANE_NNN.png), else the source `m3ret dataset` names."""
    src = e.get("source", "")
    m = re.match(r"(.*)_v\d+_[a-z]+_\d+\.png$", src)
    return m.group(1) if m else src


def hist_targets(items):
    HIST.clear()
    for a, e in items:
        flat = a.reshape(-1)
        sub = flat[:: max(1, flat.numel() // 20000)]
        HIST.append((torch.quantile(sub, HIST_Q), source_of(e)))


def match_histogram(x, source):
    """Give x the intensity histogram of an array of another source."""
    for _ in range(5):
        q, s = random.choice(HIST)
        if s != source:
            break
    flat = x.reshape(-1)
    src = torch.quantile(flat[:: max(1, flat.numel() // 20000)], HIST_Q)
    return interp(x, src, q)


def edges(x):
    """Sobel gradient magnitude of every frame, scaled by its 99th
    percentile into [0, 1]."""
    k = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    y = F.pad(x[:, None], (1, 1, 1, 1), mode="replicate")
    g = torch.sqrt(F.conv2d(y, k.view(1, 1, 3, 3)) ** 2 + F.conv2d(y, k.t().reshape(1, 1, 3, 3)) ** 2 + 1e-12)[:, 0]
    flat = g.reshape(-1)
    return (g / torch.quantile(flat[:: max(1, flat.numel() // 20000)], 0.99).clamp(min=1e-6)).clamp(0, 1)


def remap(x, aug, source):
    """At most one modality-invariance change of the intensities of a view
    [T, H, W] in [0, 1] (see AUG): the same anatomy as another modality
    or contrast might show it."""
    u = random.random()
    for key in ("curve", "nonmono", "histmatch", "edge"):
        p = aug.get(key, 0.0)
        if u >= p:
            u -= p
            continue
        x = x.clamp(0, 1)
        if key in ("curve", "nonmono"):
            return interp(x, *random_curve(key == "curve"))
        if key == "histmatch":
            return match_histogram(x, source) if HIST else x
        lam = random.uniform(0.5, 1.0)
        return lam * edges(x) + (1 - lam) * x
    return x


def view(item, out, scale, aug):
    a, e = item
    # A 2D image is changed once and repeated to T after (as inference
    # repeats it), rather than changing T equal copies.
    x = a if a.shape[0] == 1 else pick_frames(a, e["kind"])
    x = crop(geometry(x, aug), out, scale)
    if random.random() < 0.5:
        x = x.flip(-1)
    if random.random() < aug["vflip"]:
        x = x.flip(-2)
    x = remap(x, aug, source_of(e))
    if x.shape[0] == 1:
        x = x.expand(T, -1, -1).contiguous()
    return intensity(x, aug)[None]  # [1, T, out, out]


def batch(items, n, out, scale, aug):
    sel = random.choices(items, k=n)
    return torch.stack([view(it, out, scale, aug) for it in sel])


def model_input(a):
    """A stored array [F, S, S] as inference feeds it: [1, T, SIZE, SIZE],
    a 2D image repeated, a volume or clip sampled evenly to T, area resize."""
    x = a.expand(T, -1, -1) if a.shape[0] == 1 else a[torch.linspace(0, a.shape[0] - 1, T).round().long()]
    return F.interpolate(x[None], size=(SIZE, SIZE), mode="area")


@torch.no_grad()
def whiten(vit, items, shrink, dev, mirror=False):
    """Stage 3: shrunk PCA whitening of the pooled backbone features
    (Jegou & Chum 2012; Radenovic et al. 2018), fitted on the training
    arrays: f -> P (f - mu), P = U diag(1 / sqrt(lambda + shrink *
    lambda_max)) U^T, then L2. It removes the direction every brain MR slice
    shares and evens out the others. Returns the exportable model and what
    the log records."""
    vit.eval()
    xs = torch.stack([model_input(a) for a, _ in items])
    f = torch.cat([pooled(vit, xs[i:i + 64].to(dev), mirror) for i in range(0, len(xs), 64)]).double()
    mu = f.mean(0)
    lam, U = torch.linalg.eigh((f - mu).T @ (f - mu) / len(f))
    lam = lam.clamp(min=0)
    P = U @ torch.diag(1 / torch.sqrt(lam + shrink * lam.max())) @ U.T
    model = Whitened(vit, P.float(), (-P @ mu).float(), mirror)
    top = (lam.flip(0) / lam.sum())[:5]
    return model, {"arrays": len(items), "shrink": shrink, "top_variance_share": [round(float(v), 4) for v in top]}


def mae_loss(vit, dec, x):
    """MAE loss on a batch: tube masking (75 % of the spatial positions,
    the same across t), pixel-normalised targets, loss on masked tubelets."""
    B = x.shape[0]
    gt, gh, gw = vit.grid
    nsp = gh * gw
    tok, _ = vit.tokens(x)
    keep_sp = torch.rand(B, nsp, device=x.device).argsort(dim=1)[:, : max(1, int(round(nsp * 0.25)))]
    keep = torch.cat([keep_sp + t * nsp for t in range(gt)], dim=1)
    vis = torch.gather(tok, 1, keep[..., None].expand(-1, -1, tok.shape[-1]))
    pred = dec(vit.encode(vis), keep, tok.shape[1])
    tgt = patchify(x, vit.tubelet)
    tgt = (tgt - tgt.mean(-1, keepdim=True)) / (tgt.var(-1, keepdim=True) + 1e-6).sqrt()
    masked = torch.ones(B, tok.shape[1], device=x.device)
    masked.scatter_(1, keep, 0)
    return (((pred - tgt) ** 2).mean(-1) * masked).sum() / masked.sum()


def coding_rate(z, eps):
    n, d = z.shape
    a = d / (n * eps * eps)
    return 0.5 * torch.logdet(torch.eye(d, device=z.device) + a * z.T @ z)


def progress(step, steps, elapsed, minutes):
    """How far a stage is, 0..1: by steps or by wall-clock time, whichever
    is further. The schedules (cosine learning rate, EMA momentum) follow
    it, so a stage ends its schedule exactly when its time budget runs out,
    however loaded the machine is."""
    return max(step / max(1, steps), elapsed / (minutes * 60))


def schedule(opt, base_lr, step, warmup, prog):
    """Set and return the learning rate: linear warm-up over `warmup`
    steps, then cosine decay over the stage's progress (0..1)."""
    lr = base_lr * min(1.0, (step + 1) / warmup) * (0.5 * (1 + math.cos(math.pi * prog)))
    for g in opt.param_groups:
        g["lr"] = lr
    return lr


def commit():
    try:
        return subprocess.check_output(["git", "rev-parse", "HEAD"], cwd=os.path.dirname(os.path.abspath(__file__)),
                                       stderr=subprocess.DEVNULL).decode().strip()
    except Exception:
        return "unknown"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=20260107)
    ap.add_argument("--mae-minutes", type=float, default=50)
    ap.add_argument("--dino-minutes", type=float, default=12)
    ap.add_argument("--mae-steps", type=int, default=100000)
    ap.add_argument("--dino-steps", type=int, default=350, help="SimDINO steps at most (longer runs lost plane information on the dev set)")
    ap.add_argument("--mae-batch", type=int, default=48)
    ap.add_argument("--dino-batch", type=int, default=24)
    ap.add_argument("--gamma", type=float, default=1.0)
    ap.add_argument("--eps", type=float, default=0.5)
    ap.add_argument("--threads", type=int, default=1, help="CPU threads (on the 2-core development machine one trained faster than two)")
    ap.add_argument("--jitter", choices=sorted(AUG), default="strong", help="SimDINO augmentation strength")
    ap.add_argument("--global-scale", type=float, default=0.4, help="smallest area of a global crop")
    ap.add_argument("--local-scale", default="0.08,0.4", help="area range of a local crop")
    ap.add_argument("--neighbour", type=float, default=0.9, help="probability that the second global view is a nearby slice/frame")
    ap.add_argument("--reach", type=int, default=2, help="how many slices/frames away a neighbour may be")
    ap.add_argument("--whiten-shrink", type=float, default=0.1,
                    help="shrinkage of the stage-3 whitening, relative to the largest eigenvalue; < 0: no whitening")
    ap.add_argument("--patch", type=int, default=16, help="spatial tubelet size")
    ap.add_argument("--dino-lr", type=float, default=2e-4)
    ap.add_argument("--init", help="start from this stage-1 checkpoint (mae.pt; and mae-decoder.pt beside it, if there)")
    ap.add_argument("--mae-weight", type=float, default=1, help="weight of the MAE loss kept on during SimDINO (0: off)")
    ap.add_argument("--joint-batch", type=int, default=24, help="MAE batch per SimDINO step when --mae-weight > 0")
    ap.add_argument("--mirror-average", action="store_true",
                    help="export features averaged with those of the left-right mirrored input (mirror-invariant embeddings)")
    ap.add_argument("--template", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "manifest.json"))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    os.makedirs(a.out, exist_ok=True)
    items, idx = load(a.data)
    log = {"seed": a.seed, "commit": commit(), "device": str(dev), "threads": a.threads, "items": len(items),
           "args": vars(a), "mae": [], "dino": []}

    def save_log():
        with open(os.path.join(a.out, "log.json"), "w") as f:
            json.dump(log, f, indent=1)

    def say(msg):
        print(time.strftime("%H:%M:%S"), msg, flush=True)

    vit = ViT4D(frames=T, size=SIZE, tubelet=(4, a.patch, a.patch)).to(dev)
    say(f"{len(items)} arrays; model {sum(p.numel() for p in vit.parameters()) / 1e6:.2f} M params on {dev}")
    def readout(model, name, desc, version=None):
        """Export a backbone as the shipped encoder is exported: pooled
        features, the stage-3 whitening fitted on the training arrays, L2."""
        if a.whiten_shrink >= 0:
            enc, info = whiten(model, items, a.whiten_shrink, dev, a.mirror_average)
            log.setdefault("whitening", {})[name] = info
            desc += ", whitened on the training set"
        else:
            enc = Pooled(model, a.mirror_average)
        if a.mirror_average:
            desc += ", averaged with the mirrored input's"
        export.export(enc, a.template, a.out, name, desc, version=version)
        model.train()

    readout(vit, "m3ret-vit-random", "random initialisation (seed %d), pooled backbone features" % a.seed)

    # ---- stage 1: MAE ----
    dec = MAEDecoder(vit).to(dev)
    if a.init:
        vit.load_state_dict(torch.load(a.init, map_location=dev))
        log["init"] = os.path.abspath(a.init)
        dpath = os.path.join(os.path.dirname(a.init), "mae-decoder.pt")
        if os.path.exists(dpath):
            dec.load_state_dict(torch.load(dpath, map_location=dev))
    log["mae_steps"] = 0
    if a.mae_minutes > 0:
        params = [p for n, p in vit.named_parameters() if not n.startswith("head.")] + list(dec.parameters())
        opt = torch.optim.AdamW(params, lr=1.5e-4 * a.mae_batch / 32 * 4, betas=(0.9, 0.95), weight_decay=0.05)
        base_lr = opt.param_groups[0]["lr"]
        t0, step = time.time(), 0
        vit.train()
        while step < a.mae_steps:
            prog = progress(step, a.mae_steps, time.time() - t0, a.mae_minutes)
            if prog >= 1:
                break
            lr = schedule(opt, base_lr, step, 50, prog)
            loss = mae_loss(vit, dec, batch(items, a.mae_batch, SIZE, (0.4, 1.0), AUG["mae"]).to(dev))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            if step % 20 == 0:
                log["mae"].append({"step": step, "seconds": round(time.time() - t0, 1), "loss": round(loss.item(), 4)})
                say(f"mae step {step} loss {loss.item():.4f} lr {lr:.2e}")
                save_log()
            step += 1
        log["mae_steps"], log["mae_seconds"] = step, round(time.time() - t0, 1)
        torch.save(vit.state_dict(), os.path.join(a.out, "mae.pt"))
        torch.save(dec.state_dict(), os.path.join(a.out, "mae-decoder.pt"))
        readout(vit, "m3ret-vit-mae", "after MAE only (%d steps), pooled backbone features" % step)
        del opt

    # ---- stage 2: SimDINO ----
    teacher = ViT4D(frames=T, size=SIZE, tubelet=(4, a.patch, a.patch)).to(dev)
    teacher.load_state_dict(vit.state_dict())
    for p in teacher.parameters():
        p.requires_grad_(False)
    aug = AUG[a.jitter]
    groups = slice_groups([e for _, e in items])
    log["neighbour_groups"] = sum(1 for m, p in groups if len(m) > 1 and p == 0)
    gscale, lscale = (a.global_scale, 1.0), tuple(float(v) for v in a.local_scale.split(","))
    # --mae-weight > 0 keeps the MAE objective on during stage 2, as a
    # regulariser that holds on to what stage 1 learnt (M3Ret trains the two
    # objectives together).
    joint = list(dec.parameters()) if a.mae_weight > 0 else []
    opt = torch.optim.AdamW(list(vit.parameters()) + joint, lr=a.dino_lr, betas=(0.9, 0.999), weight_decay=0.04)
    base_lr = opt.param_groups[0]["lr"]
    t0, step = time.time(), 0
    while step < a.dino_steps:
        prog = progress(step, a.dino_steps, time.time() - t0, a.dino_minutes)
        if prog >= 1:
            break
        lr = schedule(opt, base_lr, step, 30, prog)
        mom = 1.0 - (1.0 - 0.996) * 0.5 * (1 + math.cos(math.pi * prog))
        B = a.dino_batch
        # Slice/frame jitter across arrays: with probability --neighbour the
        # second global view is a nearby slice of the same volume and plane
        # (or a nearby frame of the same clip), and so are half the local views.
        sel = random.choices(range(len(items)), k=B)
        sel2 = [neighbour(groups, i, a.reach) if random.random() < a.neighbour else i for i in sel]
        g1 = torch.stack([view(items[i], SIZE, gscale, aug) for i in sel]).to(dev)
        g2 = torch.stack([view(items[j], SIZE, gscale, aug) for j in sel2]).to(dev)
        locs = torch.stack([view(items[(i, j)[k % 2]], LOCAL, lscale, aug)
                            for i, j in zip(sel, sel2) for k in range(4)]).to(dev)
        with torch.no_grad():
            tz = teacher(torch.cat([g1, g2]))
        t1, t2 = tz[:B], tz[B:]
        s_glob = vit(torch.cat([g1, g2]))
        s1, s2 = s_glob[:B], s_glob[B:]
        sl = vit(locs).view(B, 4, -1)
        align = ((s1 - t2) ** 2).sum(-1).mean() + ((s2 - t1) ** 2).sum(-1).mean()
        align = align + ((sl - t1[:, None]) ** 2).sum(-1).mean() + ((sl - t2[:, None]) ** 2).sum(-1).mean()
        align = align / 4
        rate = 0.5 * (coding_rate(s1, a.eps) + coding_rate(s2, a.eps))
        loss = align - a.gamma * rate / B
        mae = torch.zeros(())
        if joint:
            mae = mae_loss(vit, dec, batch(items, a.joint_batch, SIZE, (0.4, 1.0), AUG["mae"]).to(dev))
            loss = loss + a.mae_weight * mae
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(vit.parameters()) + joint, 3.0)
        opt.step()
        with torch.no_grad():
            for pt, ps in zip(teacher.parameters(), vit.parameters()):
                pt.mul_(mom).add_(ps.detach(), alpha=1 - mom)
        if step % 10 == 0:
            with torch.no_grad():
                cs = (t1 @ t1.T)[~torch.eye(B, dtype=torch.bool, device=dev)].mean().item()
            log["dino"].append({"step": step, "seconds": round(time.time() - t0, 1), "loss": round(loss.item(), 4),
                                "align": round(align.item(), 4), "mae": round(mae.item(), 4), "rate": round(rate.item(), 3),
                                "teacher_mean_cos": round(cs, 4)})
            say(f"dino step {step} loss {loss.item():.4f} align {align.item():.4f} mae {mae.item():.4f} rate {rate.item():.2f} teacher cos {cs:.3f} lr {lr:.2e}")
            save_log()
        step += 1
    log["dino_steps"], log["dino_seconds"] = step, round(time.time() - t0, 1)
    torch.save(teacher.state_dict(), os.path.join(a.out, "m3ret-vit-simdino.pt"))
    export.export(Pooled(teacher), a.template, a.out, "m3ret-vit-simdino",
                  "after MAE and SimDINO (%d + %d steps), pooled backbone features, not whitened"
                  % (log["mae_steps"], step))
    # ---- stage 3: retrieval whitening, fitted on the training arrays ----
    readout(teacher, "m3ret-vit", "M3Ret-style ViT over 4-D tubelets, MAE (%d steps) then SimDINO (%d steps, "
            "EMA teacher), pooled backbone features; seed %d" % (log["mae_steps"], step, a.seed), version="1")
    save_log()
    say("done")


if __name__ == "__main__":
    main()
