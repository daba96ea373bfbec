"""A minimal safetensors writer and reader for the fixture scripts (Debian has no python3-safetensors).

Written independently of src/io/safetensors.ts, so the fixtures also test our reader against another writer.
"""
import json
import os
import struct

import numpy as np
import torch


# Layout: u64 LE header length, JSON header padded with spaces to a multiple of 8, then LE f32 data.
def write_safetensors(path, tensors, metadata):
    names = sorted(tensors)
    header = {"__metadata__": {k: str(metadata[k]) for k in sorted(metadata)}}
    blobs = []
    offset = 0
    for name in names:
        arr = np.ascontiguousarray(tensors[name].detach().cpu().numpy().astype("<f4"))
        blob = arr.tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def read_safetensors(path):
    """Reads back what write_safetensors wrote (used to self-check the files)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    data = raw[8 + n :]
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[b:e], dtype="<f4").reshape(info["shape"]).copy())
    return out, meta
