#!/usr/bin/python3
"""Reference preprocessing computed with numpy, for preprocess_test.go.

An independent implementation of the model contract's preprocessing (see
ARCHITECTURE.md and inference/preprocess.go's doc): frames chosen along T
(image2d: repeat or pad; volume: linear resampling; video: nearest of evenly
spaced positions), channels matched to the model (Rec. 601 luma for grey
models), each frame resized (area average when shrinking, linear with
half-pixel centres when enlarging; columns first, then rows), then
intensities normalised (window, numpy.percentile with linear interpolation,
or mean/std of values / 255).

Inputs are synthetic (seeded random numbers), made here. Run
    /usr/bin/python3 inference/testdata/make_reference.py > inference/testdata/preprocess_reference.json
Needs Debian's python3-numpy.
"""
import json

import numpy as np

rng = np.random.default_rng(7)


def weights(src, n):
    """[n, src] resampling matrix."""
    m = np.zeros((n, src))
    scale = src / n
    for o in range(n):
        if scale > 1:
            lo, hi = o * scale, (o + 1) * scale
            for i in range(int(np.floor(lo)), min(src, int(np.ceil(hi)))):
                w = min(hi, i + 1) - max(lo, i)
                if w > 1e-9:
                    m[o, i] = w / scale
        else:
            pos = np.clip((o + 0.5) * scale - 0.5, 0, src - 1)
            i = int(np.floor(pos))
            f = pos - i
            m[o, i] += 1 - f
            if i + 1 < src and f > 0:
                m[o, i + 1] += f
    return m


def time_picks(kind, mode, frames, T):
    picks = []
    for t in range(T):
        pos = np.clip((t + 0.5) * frames / T - 0.5, 0, frames - 1)
        if kind == "image2d":
            picks.append((-1, 0.0) if mode == "pad" and t > 0 else (0, 0.0))
        elif mode == "resample":
            f = int(np.floor(pos))
            picks.append((f, pos - f))
        else:
            picks.append((int(np.floor(pos + 0.5)), 0.0))
    return picks


def preprocess(data, kind, modality, C, T, H, W, mode, norm):
    frames, h, w, ch = data.shape
    if ch == 3 and C == 1:
        data = (0.299 * data[..., 0] + 0.587 * data[..., 1] + 0.114 * data[..., 2])[..., None]
    if ch == 1 and C == 3:
        data = np.repeat(data, 3, axis=3)
    rx, ry = weights(w, W), weights(h, H)
    out = np.zeros((C, T, H, W))
    for t, (f, frac) in enumerate(time_picks(kind, mode, frames, T)):
        if f < 0:
            continue
        plane = data[f]
        if frac > 0 and f + 1 < frames:
            plane = plane * (1 - frac) + data[f + 1] * frac
        for c in range(C):
            out[c, t] = ry @ (plane[..., c] @ rx.T)
    if norm["method"] == "window":
        lo = norm["center"] - norm["width"] / 2
        out = np.clip((out - lo) / norm["width"], 0, 1)
    elif norm["method"] == "meanstd":
        for c in range(C):
            out[c] = (out[c] / 255 - norm["mean"][c]) / norm["std"][c]
    else:
        lo, hi = np.percentile(out, [norm["low"], norm["high"]])
        out = np.clip((out - lo) / max(hi - lo, 1e-12), 0, 1)
    return out


CASES = [
    # name, kind, modality, (frames, h, w, ch), (C, T, H, W), time mode, normalisation
    ("area down, percentile", "image2d", "MR", (1, 23, 37, 1), (1, 1, 16, 16), "repeat",
     {"method": "percentile", "low": 1, "high": 99}),
    ("linear up, percentile", "image2d", "DX", (1, 7, 5, 1), (1, 2, 12, 12), "repeat",
     {"method": "percentile", "low": 2, "high": 98}),
    ("pad", "image2d", "US", (1, 9, 9, 1), (1, 3, 6, 6), "pad",
     {"method": "percentile", "low": 0, "high": 100}),
    ("volume resampled along T, CT window", "volume", "CT", (13, 11, 9, 1), (1, 4, 8, 8), "resample",
     {"method": "window", "center": 40, "width": 400}),
    ("video frames, RGB mean/std", "video", "ES", (7, 6, 10, 3), (3, 3, 4, 5), "even",
     {"method": "meanstd", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}),
    ("RGB to luma", "image2d", "OT", (1, 8, 12, 3), (1, 1, 5, 7), "repeat",
     {"method": "percentile", "low": 1, "high": 99}),
]

out = []
for name, kind, modality, shape, model, mode, norm in CASES:
    scale = 255 if norm["method"] == "meanstd" or shape[3] == 3 else 1000
    data = (rng.uniform(-0.2, 1.0, size=shape) * scale).astype(np.float32).astype(np.float64)
    ref = preprocess(data, kind, modality, *model, mode, norm)
    out.append({"name": name, "kind": kind, "modality": modality, "shape": list(shape), "model": list(model),
                "time_mode": mode, "normalisation": norm,
                "input": [float(np.float32(v)) for v in data.astype(np.float32).ravel()],
                "want": [float(v) for v in ref.ravel()]})
print(json.dumps(out))
