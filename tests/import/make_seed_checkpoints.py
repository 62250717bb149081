"""Writes one checkpoint per seed model in the seed's own format (seed_pickle.py: whole
DataParallel modules pickled as torch 0.4 did, the seed's class and attribute names, full-size
networks with random weights) and what gler_import should make of each.

usage: make_seed_checkpoints.py OUT_DIR [--verify] [--mini-only]

For every file F: F.manifest ("name dtype shape crc32" per tensor, names as gler_import writes
them), F.list (what `gler_import --list F` prints) and F.meta (metadata key=value lines the
import must record). The files vary the format's options between them (0.4.0/0.4.1, cuda:0/cuda:1/
cpu, storage class names, tensor hooks, torch.Size sizes, align_model/non_align_model) so that
each option is met by a full-size file. OUT_DIR/hostile/ holds broken seed-format files and
OUT_DIR/mini.pt a small well-formed one (for truncation). --verify also loads every file with
python3-torch's own legacy reader (torch.load) and checks its state_dict against what was written;
--mini-only writes only mini.pt and hostile/ (fuzzing seeds).
Run by Debian's /usr/bin/python3 (python3-torch).
"""
import collections
import math
import os
import random
import re
import sys
import warnings
import zlib

import numpy as np
import torch
import torch.nn as nn

import seed_pickle
from seed_pickle import save_seed_checkpoint, save_seed_state_dict

DTYPES = {torch.float32: "F32", torch.int64: "I64"}
DENSENET = "torchvision.models.densenet"


# ---- the seed's classes (its scripts define them in __main__) -----------------------------------

class LSoftmaxLinear(nn.Module):
    """The seed's L-Softmax head: weight (in, out), no bias, and the attributes its pickles carry."""
    seed_class = ("__main__", "LSoftmaxLinear")
    seed_attrs = ["input_dim", "output_dim", "margin", "divisor", "coeffs", "cos_exps", "sin_sq_exps", "signs"]

    def __init__(self, input_dim, output_dim, margin=4):
        super().__init__()
        self.input_dim, self.output_dim, self.margin = input_dim, output_dim, margin
        self.weight = nn.Parameter(torch.randn(input_dim, output_dim))
        self.divisor = math.pi / margin
        self.coeffs = np.array([math.comb(margin, k) for k in range(0, margin + 1, 2)], dtype=np.float64)
        self.cos_exps = range(margin, -1, -2)
        self.sin_sq_exps = range(len(self.cos_exps))
        self.signs = [(-1) ** i for i in range(len(self.sin_sq_exps))]


class sphere20a(nn.Module):
    seed_class = ("__main__", "sphere20a")
    seed_attrs = ["classnum", "feature"]

    def __init__(self, body, fc6, classnum):
        super().__init__()
        self.classnum, self.feature = classnum, False
        for name, m in body.items():
            self.add_module(name, m)
        self.fc6 = fc6


def sphere_body():
    body = collections.OrderedDict()
    for stage, units, cin, cout in ((1, 1, 3, 64), (2, 2, 64, 128), (3, 4, 128, 256), (4, 1, 256, 512)):
        for k in range(1, 2 + 2 * units):
            body[f"conv{stage}_{k}"] = nn.Conv2d(cin if k == 1 else cout, cout, 3, 2 if k == 1 else 1, 1)
            body[f"relu{stage}_{k}"] = nn.PReLU(cout)
            body[f"relu{stage}_{k}"].weight.data.uniform_(0, 0.5)
    body["fc5"] = nn.Linear(512 * 7 * 6, 512)
    return body


class FaceAttention(nn.Module):
    """Every fusion wrapper of the seed is a FaceAttention; only its children differ."""
    seed_class = ("__main__", "FaceAttention")
    seed_attrs = []

    def __init__(self, children):
        super().__init__()
        for name, m in children:
            self.add_module(name, m)


# torchvision 0.2.1's DenseNet: dense layers name their children 'norm.1', 'conv.1', ..., which
# torch >= 1.0 refuses in add_module, hence the direct _modules assignments.
class DenseLayer021(nn.Sequential):
    seed_class = (DENSENET, "_DenseLayer")
    seed_attrs = ["drop_rate"]

    def __init__(self, cin, growth, bn_size):
        super().__init__()
        self._modules["norm.1"] = nn.BatchNorm2d(cin)
        self._modules["relu.1"] = nn.ReLU(inplace=True)
        self._modules["conv.1"] = nn.Conv2d(cin, bn_size * growth, 1, 1, bias=False)
        self._modules["norm.2"] = nn.BatchNorm2d(bn_size * growth)
        self._modules["relu.2"] = nn.ReLU(inplace=True)
        self._modules["conv.2"] = nn.Conv2d(bn_size * growth, growth, 3, 1, 1, bias=False)
        self.drop_rate = 0


class DenseBlock021(nn.Sequential):
    seed_class = (DENSENET, "_DenseBlock")
    seed_attrs = []


class Transition021(nn.Sequential):
    seed_class = (DENSENET, "_Transition")
    seed_attrs = []


class DenseNet021(nn.Module):
    seed_class = (DENSENET, "DenseNet")
    seed_attrs = []

    def __init__(self, features, classes):
        super().__init__()
        self.features = features
        self.classifier = nn.Linear(2208, classes)


def densenet161_features():
    f = nn.Sequential(collections.OrderedDict([
        ("conv0", nn.Conv2d(3, 96, 7, 2, 3, bias=False)), ("norm0", nn.BatchNorm2d(96)),
        ("relu0", nn.ReLU(inplace=True)), ("pool0", nn.MaxPool2d(3, 2, 1))]))
    c = 96
    for i, layers in enumerate((6, 12, 36, 24)):
        block = DenseBlock021()
        for j in range(layers):
            block.add_module(f"denselayer{j + 1}", DenseLayer021(c + 48 * j, 48, 4))
        f.add_module(f"denseblock{i + 1}", block)
        c += 48 * layers
        if i < 3:
            t = Transition021(collections.OrderedDict([
                ("norm", nn.BatchNorm2d(c)), ("relu", nn.ReLU(inplace=True)),
                ("conv", nn.Conv2d(c, c // 2, 1, 1, bias=False)), ("pool", nn.AvgPool2d(2, 2))]))
            f.add_module(f"transition{i + 1}", t)
            c //= 2
    f.add_module("norm5", nn.BatchNorm2d(c))
    return f


def randomize_batchnorm(root, rng):
    for m in root.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 1.5)
            m.num_batches_tracked.fill_(rng.randrange(1, 1 << 40))


def kaiming_linear(cin, cout):
    fc = nn.Linear(cin, cout)
    nn.init.kaiming_normal_(fc.weight)
    fc.bias.data.fill_(0.01)
    return fc


def bn1d(c):
    """The fusion models' BatchNorm1d(affine=False), with running statistics worth checking."""
    bn = nn.BatchNorm1d(c, affine=False)
    bn.running_mean.uniform_(-1, 1)
    bn.running_var.uniform_(0.5, 1.5)
    bn.num_batches_tracked.fill_(977)
    return bn


# ---- the seed's models -------------------------------------------------------------------------

class Models:
    """Full-size networks, built once: the fusion models share the DenseNet and sphere20a bodies."""

    def __init__(self):
        torch.manual_seed(0)
        rng = random.Random(0)
        self.features = densenet161_features()
        self.body = sphere_body()
        randomize_batchnorm(self.features, rng)

    def global_model(self, classes=3):
        return DenseNet021(self.features, classes)

    def sphere(self, fc6, classnum=10574):
        return sphere20a(self.body, fc6, classnum)

    def average(self):
        heads = [("global_model", self.features), ("global_fc3_debug", kaiming_linear(2464, 3)),
                 ("bn_global", bn1d(2208)), ("bn_face_features", bn1d(256)), ("dropout_classifier", nn.Dropout(0.5))]
        return FaceAttention(heads)

    def attention(self, kind, emotic):
        """Attention_A/B/C (kind "a", "b", "c"), children in the seed's registration order
        (SEED_SPEC 4.8-4.10); the EmotiC variants hold a whole DenseNet and no global_fc_main."""
        face = 64 if kind == "b" else 256
        main = [] if emotic else [("global_fc_main", kaiming_linear(2208, 256))]
        dropouts = [("global_fc_main_dropout", nn.Dropout(0.5)), ("align_model_dropout", nn.Dropout(0.5))]
        bns = [("bn_debug_face", bn1d(face)), ("bn_debug_global", bn1d(256))]
        if kind == "a":
            heads = main + [("global_fc3_debug", kaiming_linear(512, 3))] + dropouts + bns
        elif kind == "b":
            heads = [("global_fc3_debug", kaiming_linear(320, 3)), ("global_fc", kaiming_linear(256, 64)),
                     ("global_fc_dropout", nn.Dropout(0.5))] + dropouts + bns + main
        else:
            heads = [("global_fc3_debug", kaiming_linear(512, 3)), ("attentionfc1", kaiming_linear(256, 64)),
                     ("attentionfc2", kaiming_linear(64, 1))] + main + [
                ("attentionfc1_dropout", nn.Dropout(0.5))] + dropouts + bns
        backbones = [("global_model", self.global_model(256) if emotic else self.features),
                     ("align_model", self.sphere(kaiming_linear(512, face)))]
        return FaceAttention(backbones + heads)


def seed_files(models):
    """(file name, model, writer options, expected metadata with the arch) per seed checkpoint."""
    seed = {"seed_compat": "1"}
    linear3 = models.sphere(nn.Linear(512, 3))
    lsoftmax3 = models.sphere(LSoftmaxLinear(512, 3), classnum=3)
    local = {"arch": "local", "max_faces": "15", **seed}
    return [
        ("DenseNet161_EmotiW", models.global_model(), {}, {"arch": "global", **seed}),
        ("densenet_emotiw_pretrainemotic_lr001.pt", models.global_model(), {"state_dict": True},
         {"arch": "global", **seed}),
        ("AlignedModel_EmotiW_lr01_Softmax", linear3, {"hooks": "ordereddict", "size_as_torch_size": "newobj"},
         {**local, "fc6": "linear"}),
        ("AlignedModel_EmotiW_lr001", lsoftmax3,
         {"location": "cuda:1", "storage_types": "cuda", "num_batches_tracked": False}, {**local, "fc6": "lsoftmax"}),
        ("AlignedModelTrainerSoftmax_AlignedModel_EmotiW_lr01_Softmax", FaceAttention([("align_model", linear3)]),
         {"naming": "non_align_model", "size_as_torch_size": "reduce"}, {**local, "fc6": "linear"}),
        ("AlignedModelTrainerLSoftmax_AlignedModel_EmotiW_lr001", FaceAttention([("align_model", lsoftmax3)]),
         {"location": "cpu", "hooks": "ordereddict"}, {**local, "fc6": "lsoftmax"}),
        ("PretrainedDenseNet-FineTune-2208-3-lr001-Regularized-Corrected", models.average(),
         {"num_batches_tracked": False, "location": "cuda:1"}, {"arch": "average", "max_faces": "15", **seed}),
        ("FaceAttention_AlignedModel_FullTrain_lr001_dropout_BN_SoftmaxLr01", models.attention("a", False),
         {"naming": "non_align_model"}, {"arch": "attention_a", "emotic": "0", "max_faces": "15", **seed}),
        ("FaceAttention_AlignedModel_FullTrain_3para_lr001_dropout_BN_SoftmaxLr01", models.attention("b", False),
         {"size_as_torch_size": "newobj", "num_batches_tracked": False},
         {"arch": "attention_b", "emotic": "0", "max_faces": "15", **seed}),
        ("FaceAttention_AlignedModel_FullTrain_3para_lr001_dropout_BN_SoftmaxLr01_EmotiC", models.attention("b", True),
         {"naming": "non_align_model", "location": "cuda:1", "storage_types": "cuda"},
         {"arch": "attention_b", "emotic": "1", "max_faces": "15", **seed}),
        ("FaceAttention_AlignedModel_FullTrain_4para_lr01_dropout_BN_SoftmaxLr01", models.attention("c", False),
         {"hooks": "ordereddict"}, {"arch": "attention_c", "emotic": "0", "max_faces": "15", **seed}),
        ("FaceAttention_AlignedModel_FullTrain_4para_lr001_dropout_BN_SoftmaxLr01_EmotiC", models.attention("c", True),
         {"naming": "non_align_model", "size_as_torch_size": "reduce", "num_batches_tracked": False},
         {"arch": "attention_c", "emotic": "1", "max_faces": "15", **seed}),
    ]


# ---- manifests ---------------------------------------------------------------------------------

def canonical(name, arch):
    """The name gler_import gives a tensor (weights_import normalize_name and conform_to_arch)."""
    name = name[len("module."):] if name.startswith("module.") else name
    name = name[len("non_"):] if name.startswith("non_align_model.") else name
    if arch == "local" and name.startswith("align_model."):
        name = name[len("align_model."):]
    return re.sub(r"denselayer(\d+)\.(norm|relu|conv)\.([12])\.", r"denselayer\1.\2\3.", name)


_crcs = {}


def crc_of(t):
    key = (t.data_ptr(), t.numel(), t.dtype)
    if key not in _crcs:
        _crcs[key] = zlib.crc32(t.numpy().tobytes()) & 0xffffffff
    return _crcs[key]


def write_expectations(path, state, arch, metadata):
    with open(path + ".manifest", "w") as m, open(path + ".list", "w") as listing:
        for name, t in state.items():
            m.write(f"{canonical(name, arch)} {DTYPES[t.dtype]} {','.join(map(str, t.shape))} {crc_of(t)}\n")
            listing.write(f"{name} {DTYPES[t.dtype]} [{','.join(map(str, t.shape))}]\n")
    if metadata:
        with open(path + ".meta", "w") as f:
            f.writelines(f"{k}={v}\n" for k, v in metadata.items())


def verify(path, state):
    """torch's own legacy reader must rebuild exactly the tensors that were written."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SourceChangeWarning: the pickled class sources are stubs
        loaded = torch.load(path, map_location="cpu")
    got = loaded if isinstance(loaded, dict) else loaded.state_dict()
    assert list(got) == list(state), f"{path}: names differ"
    for name, t in state.items():
        assert torch.equal(got[name], t), f"{path}: {name} differs"


# ---- broken files ------------------------------------------------------------------------------

def mini_model():
    torch.manual_seed(5)
    body = collections.OrderedDict([("conv1_1", nn.Conv2d(3, 4, 3, 2, 1)), ("relu1_1", nn.PReLU(4))])
    inner = sphere20a(body, LSoftmaxLinear(4, 3), 3)
    return FaceAttention([("align_model", inner), ("bn_debug_face", bn1d(4))])


def hostile_files(out):
    """Seed-format files that must be refused: each name says what is wrong."""
    h = os.path.join(out, "hostile")
    os.makedirs(h, exist_ok=True)

    def child(tree):
        return tree.state["_modules"]["module"]

    def first_tensor(tree):
        return child(tree).state["_modules"]["align_model"].state["_modules"]["conv1_1"].state["_parameters"]["weight"].tensor

    def size_str(tree):
        first_tensor(tree).size = "4,3,3,3"

    def size_float(tree):
        first_tensor(tree).size = seed_pickle.Size04((4, 3, 3.0, 3), "newobj")

    def unknown_class(tree):
        child(tree).cls = seed_pickle.Global("seedmodels.attention", "FaceAttention", module_class=True)

    def system(tree):
        child(tree).state["_backend"] = seed_pickle.Global("os", "system")

    for name, edit in (("size_str.pt", size_str), ("size_float.pt", size_float),
                       ("unknown_class.pt", unknown_class), ("system.pt", system)):
        save_seed_checkpoint(mini_model(), os.path.join(h, name), edit=edit)
    mini = open(os.path.join(out, "mini.pt"), "rb").read()
    open(os.path.join(h, "truncated.pt"), "wb").write(mini[:len(mini) - 7])


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    mini = os.path.join(out, "mini.pt")
    written = [(mini, save_seed_checkpoint(mini_model(), mini, size_as_torch_size="newobj"))]
    write_expectations(mini, written[0][1], "", None)
    hostile_files(out)
    if "--mini-only" not in sys.argv:
        for name, model, options, metadata in seed_files(Models()):
            path = os.path.join(out, name)
            options = dict(options)
            if options.pop("state_dict", False):
                state = save_seed_state_dict(model, path, **options)
            else:
                state = save_seed_checkpoint(model, path, **options)
            write_expectations(path, state, metadata["arch"], metadata)
            written.append((path, state))
    if "--verify" in sys.argv:
        for path, state in written:
            verify(path, state)


if __name__ == "__main__":
    main()
