"""Writes data/reference/mtcnn/net_dumps/ipazc_ivan_*.npy: P-Net, R-Net and O-Net inputs and outputs on
the licence-clean bundled photo data/photos/ipazc_ivan.jpg, computed with python3-torch 1.13 and Pillow
from the bundled weights by the PyTorch definitions in mtcnn_torch.py (not by the seed's code; those
definitions reproduce the seed's own dumps bit for bit). tests/models/test_mtcnn.cpp checks gler's nets
against them.

* P-Net: pyramid level k = 3 (scale 0.6 * 0.707**3, as the seed's detector computes it in double),
  Pillow's image.resize((ceil(W*s), ceil(H*s)), Image.BILINEAR) of the RGB photo, kept as uint8 HWC.
* R-Net / O-Net: crops of fixed boxes, every 7th of the seed's stage-1 output boxes (R-Net) and all of
  its stage-2 output boxes (O-Net) from data/reference/mtcnn/detections/ipazc_ivan.json, cut out as
  SEED_SPEC §3.4 describes (zero padding outside the image) and resized with Image.BILINEAR.

Usage: python3 tests/models/mtcnn_make_dumps.py [REPO_ROOT]
"""
import json
import math
import os
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from mtcnn_torch import load_nets, normalize  # noqa: E402

LEVEL = 3
STEM = "ipazc_ivan"


def crop(image_u8, box, size):
    """The seed's crop of an inclusive box [x1, y1, x2, y2]: the in-image part copied into a zero
    (h, w, 3) patch, coordinates truncated to integers, then resized to size x size."""
    H, W = image_u8.shape[:2]
    x1, y1, x2, y2 = box
    w, h = x2 - x1 + 1, y2 - y1 + 1
    dx, dy, edx, edy = 0.0, 0.0, w - 1, h - 1
    if x2 > W - 1:
        edx, x2 = w + W - 2 - x2, W - 1
    if y2 > H - 1:
        edy, y2 = h + H - 2 - y2, H - 1
    if x1 < 0:
        dx, x1 = -x1, 0
    if y1 < 0:
        dy, y1 = -y1, 0
    dx, dy, edx, edy, x1, y1, x2, y2, w, h = (int(v) for v in (dx, dy, edx, edy, x1, y1, x2, y2, w, h))
    patch = np.zeros((h, w, 3), np.uint8)
    patch[dy:edy + 1, dx:edx + 1] = image_u8[y1:y2 + 1, x1:x2 + 1]
    return np.asarray(Image.fromarray(patch).resize((size, size), Image.BILINEAR))


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", ".."))
    out_dir = os.path.join(root, "data", "reference", "mtcnn", "net_dumps")
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    nets = load_nets(os.path.join(root, "data", "mtcnn", "mtcnn.safetensors"))
    image = Image.open(os.path.join(root, "data", "photos", STEM + ".jpg")).convert("RGB")
    detections = json.load(open(os.path.join(root, "data", "reference", "mtcnn", "detections", STEM + ".json")))
    level = detections["scales"][LEVEL]
    scale = 0.6 * 0.707 ** LEVEL
    assert scale == level["scale"]
    size = (math.ceil(image.width * scale), math.ceil(image.height * scale))
    assert list(size) == level["resized_wh"]

    def save(name, array):
        np.save(os.path.join(out_dir, f"{STEM}_{name}.npy"), np.ascontiguousarray(array))

    with torch.no_grad():
        level_u8 = np.asarray(image.resize(size, Image.BILINEAR))
        prob, offsets = nets["pnet"](normalize(level_u8[None]))
        assert list(prob.shape[2:]) == level["pnet_map_hw"]
        save(f"s{LEVEL}_input_rgb_uint8", level_u8)
        save(f"s{LEVEL}_prob", prob.numpy())
        save(f"s{LEVEL}_offsets", offsets.numpy())

        image_u8 = np.asarray(image)
        rnet_boxes = [b[:4] for b in detections["stage1_output_boxes"][::7]]
        rnet_in = np.stack([crop(image_u8, b, 24) for b in rnet_boxes])
        prob, offsets = nets["rnet"](normalize(rnet_in))
        save("rnet_input_nhwc_uint8", rnet_in)
        save("rnet_prob", prob.numpy())
        save("rnet_offsets", offsets.numpy())

        onet_boxes = [b[:4] for b in detections["stage2_output_boxes"]]
        onet_in = np.stack([crop(image_u8, b, 48) for b in onet_boxes])
        prob, offsets, landmarks, features = nets["onet"](normalize(onet_in))
        save("onet_input_nhwc_uint8", onet_in)
        save("onet_prob", prob.numpy())
        save("onet_offsets", offsets.numpy())
        save("onet_landmarks_raw", landmarks.numpy())
        save("onet_features", features.numpy())
    print(f"P-Net level {LEVEL} {size}, R-Net {len(rnet_boxes)} crops, O-Net {len(onet_boxes)} crops -> {out_dir}")


if __name__ == "__main__":
    main()
