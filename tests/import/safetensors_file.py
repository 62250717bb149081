"""Reads a safetensors file with the format's own validation rules (Python's `safetensors` package is
not in Debian): 8-byte length, JSON header, dtype names, contiguous offsets from 0 that cover the data."""
import json
import struct

import numpy as np
import torch

DT = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
      "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
      "BOOL": torch.bool}


def load_safetensors(path):
    raw = open(path, "rb").read()
    n, = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0, "header not padded to 8 bytes"
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {})
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items())
    end = 0
    out = {}
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        b, e = info["data_offsets"]
        assert b == end, f"{name}: offsets not contiguous"
        dtype = DT[info["dtype"]]
        numel = int(np.prod(info["shape"])) if info["shape"] else 1
        assert e - b == numel * torch.tensor([], dtype=dtype).element_size(), f"{name}: wrong byte count"
        buf = bytearray(data[b:e])
        t = torch.frombuffer(buf, dtype=dtype) if buf else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"])
        end = e
    assert end == len(data), "data section has trailing bytes"
    return out, meta
