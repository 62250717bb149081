"""The MTCNN P-Net, R-Net and O-Net in PyTorch, written from SEED_SPEC §3.1 (the reference that
models/mtcnn_nets is compared with), and the bundled weights loaded into them by name."""
import os
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "import"))
from safetensors_file import load_safetensors  # noqa: E402


class FlattenSwapHW(nn.Module):
    """The Caffe-ported dense weights expect (C, W, H) order: swap H and W, then flatten."""

    def forward(self, x):
        return x.transpose(3, 2).contiguous().view(x.size(0), -1)


def _stage(layers):
    return nn.Sequential(OrderedDict(layers))


class PNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = _stage([
            ("conv1", nn.Conv2d(3, 10, 3)), ("prelu1", nn.PReLU(10)),
            ("pool1", nn.MaxPool2d(2, 2, ceil_mode=True)),
            ("conv2", nn.Conv2d(10, 16, 3)), ("prelu2", nn.PReLU(16)),
            ("conv3", nn.Conv2d(16, 32, 3)), ("prelu3", nn.PReLU(32)),
        ])
        self.conv4_1 = nn.Conv2d(32, 2, 1)
        self.conv4_2 = nn.Conv2d(32, 4, 1)

    def forward(self, x):
        x = self.features(x)
        return F.softmax(self.conv4_1(x), dim=1), self.conv4_2(x)


class RNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = _stage([
            ("conv1", nn.Conv2d(3, 28, 3)), ("prelu1", nn.PReLU(28)),
            ("pool1", nn.MaxPool2d(3, 2, ceil_mode=True)),
            ("conv2", nn.Conv2d(28, 48, 3)), ("prelu2", nn.PReLU(48)),
            ("pool2", nn.MaxPool2d(3, 2, ceil_mode=True)),
            ("conv3", nn.Conv2d(48, 64, 2)), ("prelu3", nn.PReLU(64)),
            ("flatten", FlattenSwapHW()),
            ("conv4", nn.Linear(576, 128)), ("prelu4", nn.PReLU(128)),
        ])
        self.conv5_1 = nn.Linear(128, 2)
        self.conv5_2 = nn.Linear(128, 4)

    def forward(self, x):
        x = self.features(x)
        return F.softmax(self.conv5_1(x), dim=1), self.conv5_2(x)


class ONet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = _stage([
            ("conv1", nn.Conv2d(3, 32, 3)), ("prelu1", nn.PReLU(32)),
            ("pool1", nn.MaxPool2d(3, 2, ceil_mode=True)),
            ("conv2", nn.Conv2d(32, 64, 3)), ("prelu2", nn.PReLU(64)),
            ("pool2", nn.MaxPool2d(3, 2, ceil_mode=True)),
            ("conv3", nn.Conv2d(64, 64, 3)), ("prelu3", nn.PReLU(64)),
            ("pool3", nn.MaxPool2d(2, 2, ceil_mode=True)),
            ("conv4", nn.Conv2d(64, 128, 2)), ("prelu4", nn.PReLU(128)),
            ("flatten", FlattenSwapHW()),
            ("conv5", nn.Linear(1152, 256)), ("drop5", nn.Dropout(0.25)), ("prelu5", nn.PReLU(256)),
        ])
        self.conv6_1 = nn.Linear(256, 2)
        self.conv6_2 = nn.Linear(256, 4)
        self.conv6_3 = nn.Linear(256, 10)

    def forward(self, x):
        """Returns (probs, offsets, landmarks, the 256-d prelu5 feature)."""
        x = self.features(x)
        return F.softmax(self.conv6_1(x), dim=1), self.conv6_2(x), self.conv6_3(x), x


def load_nets(weights_path, dtype=torch.float32):
    """The three nets with the bundled weights (strict, by name), in eval mode."""
    tensors, _ = load_safetensors(weights_path)
    nets = {"pnet": PNet(), "rnet": RNet(), "onet": ONet()}
    for prefix, net in nets.items():
        sd = {k[len(prefix) + 1:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}
        net.load_state_dict(sd, strict=True)
        net.to(dtype).eval()
    return nets


def normalize(images_nhwc_u8):
    """u8 [N, H, W, 3] -> float32 [N, 3, H, W], (u8 - 127.5) * 0.0078125, as the seed's _preprocess."""
    x = torch.from_numpy(np.array(images_nhwc_u8, dtype=np.uint8)).to(torch.float32)
    return ((x - 127.5) * 0.0078125).permute(0, 3, 1, 2).contiguous()
