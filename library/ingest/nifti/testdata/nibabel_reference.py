#!/usr/bin/python3
"""Write nibabel_reference.json: figures (never voxel data) that nibabel
computes for the NIfTI sample files, for nibabel_test.go to check the Go
reader against.

Run with Debian's python3 and python3-nibabel after .ci/fetch-samples.sh:

    /usr/bin/python3 library/ingest/nifti/testdata/nibabel_reference.py

For each file: nibabel's shape and affine; min, max and mean of the scaled
data (get_fdata) of the first and the last volume; and the display layout
the Go reader promises, derived from nib.as_closest_canonical (RAS+) by
flipping the first two axes (x towards the patient's left, y towards the
back, slices feet to head): its size, voxel spacing and the sha256 of its
float32 little-endian values in Go's frame-major order, for the whole first
volume and for the middle slice. The Go reader reads non-finite voxels
(NaN, ±Inf) as 0, so the figures are of the data with those set to 0 too
(resampled_anat_moved.nii has NaNs outside the brain).
"""
import hashlib
import json
import os
import sys

import nibabel as nib
import numpy as np

FILES = [
    "nifti/nibabel/anatomical.nii",
    "nifti/nibabel/functional.nii",
    "nifti/nibabel/example4d.nii.gz",
    "nifti/nibabel/example_nifti2.nii.gz",
    "nifti/nibabel/standard.nii.gz",
    "nifti/nibabel/reoriented_anat_moved.nii",
    "nifti/nibabel/resampled_anat_moved.nii",
    "nifti/dipy/small_64D.nii",
    "nifti/dipy/aniso_vox.nii.gz",
    "nifti/dipy/small_25.nii.gz",
    "nifti/mricron/ch2.nii.gz",
    "nifti/mricron/ch2bet.nii.gz",
]


def samples_root():
    root = os.environ.get("M3RET_SAMPLES")
    if root:
        return root
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(cache, "m3ret", "samples")


def volume(img, t):
    if len(img.shape) == 3:
        a = np.asarray(img.get_fdata(), dtype=np.float64)
    else:
        a = np.asarray(img.dataobj[..., t], dtype=np.float64)
    return np.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0)


def stats(a):
    return {"min": float(a.min()), "max": float(a.max()), "mean": float(a.mean())}


def sha(a):
    return hashlib.sha256(np.ascontiguousarray(a).astype("<f4").tobytes()).hexdigest()


def reference(path):
    img = nib.load(path)
    shape = list(img.shape)
    volumes = int(np.prod(shape[3:])) if len(shape) > 3 else 1
    canon = nib.as_closest_canonical(img)
    # canonical (i→R, j→A, k→S) flipped to (x→L, y→P, k→S), then (k, y, x)
    disp = volume(canon, 0)[::-1, ::-1, :].transpose(2, 1, 0)
    zooms = np.sqrt((canon.affine[:3, :3] ** 2).sum(axis=0))
    mid = disp.shape[0] // 2
    finite = np.isfinite(np.asarray(img.dataobj, dtype=np.float64)).all()
    out = {
        "non_finite": not bool(finite),
        "shape": shape,
        "affine": img.affine.tolist(),
        "volumes": volumes,
        "first": stats(volume(img, 0)),
        "display_size": [disp.shape[2], disp.shape[1], disp.shape[0]],
        "display_spacing": zooms.tolist(),
        "display_sha256": sha(disp),
        "middle_slice": mid,
        "middle_slice_sha256": sha(disp[mid]),
    }
    if volumes > 1:
        out["last"] = stats(volume(img, volumes - 1))
    return out


def main():
    root = samples_root()
    ref = {
        "generator": "nibabel_reference.py with nibabel " + nib.__version__,
        "files": {f: reference(os.path.join(root, f)) for f in FILES},
    }
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "nibabel_reference.json"), "w") as out:
        json.dump(ref, out, indent=1, sort_keys=True)
        out.write("\n")


if __name__ == "__main__":
    sys.exit(main())
