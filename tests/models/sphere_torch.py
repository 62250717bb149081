"""sphere20a in PyTorch, written from SEED_SPEC §4.0 (the reference that models/sphere20a is compared
with): 3x3 pad-1 convs with bias, each followed by its own PReLU(C); a stride-2 conv opens each
stage, then 1, 2, 4, 1 residual units x + PReLU(conv_b(PReLU(conv_a(x)))); flatten (C, H, W); fc5;
fc6 one of Linear, L-Softmax (eval: x.mm(W)), A-Softmax's AngleLinear, or none."""
import torch
import torch.nn as nn

UNITS = (1, 2, 4, 1)


class AngleLinear(nn.Module):
    """A-Softmax's layer: weight [in, out] used with unit-length columns; returns
    (|x| cos(theta), |x| psi(theta)), psi = (-1)^k cos(m theta) - 2k, k = floor(m theta / pi)."""

    def __init__(self, in_features, out_features, m=4):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        self.m = m

    def forward(self, x):
        w = self.weight / self.weight.norm(dim=0, keepdim=True)
        x_norm = x.norm(dim=1, keepdim=True)
        cos = (x.mm(w) / x_norm).clamp(-1, 1)
        k = torch.floor(self.m * cos.detach().acos() / 3.14159265)
        # cos(m theta) as the Chebyshev polynomial of cos theta
        cheb = {1: lambda c: c, 2: lambda c: 2 * c ** 2 - 1, 3: lambda c: 4 * c ** 3 - 3 * c,
                4: lambda c: 8 * c ** 4 - 8 * c ** 2 + 1, 5: lambda c: 16 * c ** 5 - 20 * c ** 3 + 5 * c}
        cos_m = cheb[self.m](cos)
        sign = 1 - 2 * torch.remainder(k, 2)
        phi = sign * cos_m - 2 * k
        return cos * x_norm, phi * x_norm


class LSoftmaxEval(nn.Module):
    """L-Softmax's layer in eval mode (and the seed's trainer in every mode): x.mm(W), W [in, out]."""

    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(in_features, out_features))

    def forward(self, x):
        return x.mm(self.weight)


class Sphere20a(nn.Module):
    def __init__(self, head="linear", classes=3, widths=(64, 128, 256, 512), feature_dim=512, fc5_in=512 * 7 * 6):
        super().__init__()
        self.order = []
        cin = 3
        for s, (cout, units) in enumerate(zip(widths, UNITS), start=1):
            for j in range(1, 2 + 2 * units):
                name = f"{s}_{j}"
                setattr(self, "conv" + name, nn.Conv2d(cin if j == 1 else cout, cout, 3, 2 if j == 1 else 1, 1))
                setattr(self, "relu" + name, nn.PReLU(cout))
                self.order.append(name)
            cin = cout
        self.fc5 = nn.Linear(fc5_in, feature_dim)
        self.head = head
        if head == "linear":
            self.fc6 = nn.Linear(feature_dim, classes)
        elif head == "lsoftmax":
            self.fc6 = LSoftmaxEval(feature_dim, classes)
        elif head == "angle":
            self.fc6 = AngleLinear(feature_dim, classes)

    def _unit(self, name, x):
        return getattr(self, "relu" + name)(getattr(self, "conv" + name)(x))

    def forward(self, x):
        i = 0
        for s, units in enumerate(UNITS, start=1):
            x = self._unit(self.order[i], x)
            i += 1
            for _ in range(units):
                x = x + self._unit(self.order[i + 1], self._unit(self.order[i], x))
                i += 2
        feature = self.fc5(x.reshape(x.size(0), -1))
        if self.head == "none":
            return feature, None
        return feature, self.fc6(feature)
