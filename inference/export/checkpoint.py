"""Reading published checkpoints without their libraries: PyTorch state dicts
(.pth, .pt, .bin: torch.save of a dict of tensors, as the DINOv2 release and
transformers' pytorch_model.bin are) and safetensors files (model.safetensors,
as transformers and the RAD-DINO release write them), read here from the
format's specification so the safetensors package is not needed:

  8 bytes   N, little-endian unsigned
  N bytes   JSON header: {name: {"dtype": "F32", "shape": [...],
            "data_offsets": [begin, end]}, "__metadata__": {...}}
  the rest  the tensors' little-endian bytes; offsets count from here
"""
import json
import struct

import numpy as np
import torch

SAFETENSORS_DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": None,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_,
}


def read_safetensors(path):
    """Returns {name: tensor} from a .safetensors file."""
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) != 8:
            raise ValueError(f"{path}: not a safetensors file (too short)")
        (n,) = struct.unpack("<Q", raw)
        if n > 100 << 20:
            raise ValueError(f"{path}: not a safetensors file (header of {n} bytes)")
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype, shape, (begin, end) = info["dtype"], info["shape"], info["data_offsets"]
        if dtype not in SAFETENSORS_DTYPES:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {dtype}")
        if not 0 <= begin <= end <= len(data):
            raise ValueError(f"{path}: tensor {name} lies outside the file")
        buf = data[begin:end]
        if dtype == "BF16":
            bits = np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16
            arr = bits.view(np.float32)
        else:
            arr = np.frombuffer(buf, dtype=np.dtype(SAFETENSORS_DTYPES[dtype]).newbyteorder("<"))
        if arr.size != int(np.prod(shape, dtype=np.int64)):
            raise ValueError(f"{path}: tensor {name} has {arr.size} values for shape {shape}")
        out[name] = torch.from_numpy(arr.reshape(shape).astype(arr.dtype.newbyteorder("="), copy=True))
    return out


def read_torch(path):
    """Returns the state dict of a torch.save'd checkpoint; the tensors only
    (weights_only where this PyTorch has it: no code runs from the file)."""
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except TypeError:  # PyTorch older than 1.13
        obj = torch.load(path, map_location="cpu")
    if isinstance(obj, dict) and not any(torch.is_tensor(v) for v in obj.values()):
        for wrapper in ("state_dict", "model"):
            if isinstance(obj.get(wrapper), dict):
                obj = obj[wrapper]
                break
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: not a state dict ({type(obj).__name__})")
    return dict(obj)


def read_checkpoint(path):
    """A state dict from .safetensors or a torch.save file (.pth, .pt, .bin),
    tensors as float32 (the exported model runs in float32)."""
    with open(path, "rb") as f:
        head = f.read(9)
    is_safetensors = path.endswith(".safetensors") or (len(head) == 9 and head[8:9] == b"{")
    sd = read_safetensors(path) if is_safetensors else read_torch(path)
    return {k: (v.float() if v.is_floating_point() else v) for k, v in sd.items()}


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: float32 tensor} as .safetensors (used by the self-test to
    produce the file a user downloads; the format above)."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        b = t.detach().cpu().contiguous().float().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)  # the header is padded with spaces to 8 bytes
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
