"""Checks that a safetensors file written by gler_import loads as Python's `safetensors` would
(the library is not packaged for Debian, so its validation rules are applied here: header length,
JSON header, dtype names, offsets contiguous from 0 and covering the data, 8-byte padding), and that
every tensor equals the source checkpoint's bit for bit.

usage: check_safetensors.py FILE.safetensors SOURCE.pt|MTCNN_DIR [FILE SOURCE ...]
"""
import json
import os
import re
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_file import load_safetensors  # noqa: E402
from make_checkpoints import FaceAttention, LSoftmaxLinear, Small, sphere20a  # noqa: E402,F401  (whole-module pickles name __main__ classes)

def raw_bytes(t):
    t = t.contiguous().reshape(-1)
    return t.view(torch.uint8) if t.numel() else t.to(torch.uint8)


def canonical(name):
    name = name[len("module."):] if name.startswith("module.") else name
    name = name[len("non_"):] if name.startswith("non_align_model.") else name
    return re.sub(r"denselayer(\d+)\.(norm|relu|conv)\.([12])\.", r"denselayer\1.\2\3.", name)


def source_tensors(src):
    if os.path.isdir(src):
        out = {}
        for net in ("pnet", "rnet", "onet"):
            d = np.load(os.path.join(src, net + ".npy"), allow_pickle=True)[()]
            out.update({f"{net}.{k}": torch.from_numpy(v) for k, v in d.items()})
        return out
    obj = torch.load(src, map_location="cpu")
    sd = obj.state_dict() if isinstance(obj, torch.nn.Module) else obj
    return {canonical(k): v for k, v in sd.items()}


def check(path, src):
    got, meta = load_safetensors(path)
    want = source_tensors(src)
    assert "arch" in meta, "metadata lacks arch"
    assert set(got) == set(want), f"names differ: {sorted(set(got) ^ set(want))[:10]}"
    for k, v in want.items():
        g = got[k]
        assert g.dtype == v.dtype and g.shape == v.shape, k
        assert torch.equal(raw_bytes(g), raw_bytes(v)), k
    print(f"ok {path}: {len(got)} tensors, arch {meta['arch']}")


def main():
    args = sys.argv[1:]
    assert args and len(args) % 2 == 0, __doc__
    for path, src in zip(args[::2], args[1::2]):
        check(path, src)


if __name__ == "__main__":
    main()
