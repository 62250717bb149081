"""The seed's group-emotion models in PyTorch, written from SEED_SPEC §4 (the reference the C++
models in models/gler/ are compared with, and a source of seed-format checkpoints for tests).

Each class keeps the seed's class and attribute names (sphere20a, LSoftmaxLinear, global_model,
align_model, global_fc_main, global_fc3_debug, bn_debug_face, ...), so state-dict keys are the
seed's (§6.2) and a pickled instance has the seed's module tree. The seed names every wrapper
class FaceAttention (one per training script); here they are FaceAttentionLocal, FaceAttentionAverage,
FaceAttentionA/B/C, each with SEED_NAME = 'FaceAttention' for whoever pickles them under that name.
DenseNet parameters carry modern torchvision names (denselayer1.norm1...); torchvision <= 0.2.1
wrote denselayer1.norm.1... (densenet_reference.old_names converts).

Each forward is the seed's, step by step: the per-image loop over all face slots (empty ones hold
zero faces), the mean over the first min(n, F) faces, the detached pooled DenseNet feature
(Variable(...) in the seed) in the non-EmotiC fusion models, the A/B score reshape that reads F's
(B, F, D) memory as (B, D, F), the -inf mask and softmax, the detached attention weights, the zero
weights for an image without faces. seed_compat=False gives the corrected variants of A/B/C: the
scores are true dot products g . F^T and the weights keep their gradient.

Builders: build(arch, ...) and global_simple, local, average, attention_a/b/c; run(model, ...) calls
any of them with the C++ GlerInput's tensors and returns (logits, attention weights or None).
Import it with tests/models on sys.path (it uses sphere_torch.py beside it).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

from sphere_torch import Sphere20a

ARCHS = ('global', 'local', 'average', 'attention_a', 'attention_b', 'attention_c')


class LSoftmaxLinear(nn.Module):
    """The seed's L-Softmax layer as its trainer and ensemble copies run it (§4.6, §8.3): weight
    (in, out), no bias, never initialised by the seed; the margin terms are computed there and then
    dropped, so forward returns x.mm(W) with or without a target."""

    def __init__(self, input_features, output_features, margin=4):
        super().__init__()
        self.input_dim = input_features
        self.output_dim = output_features
        self.margin = margin
        self.divisor = math.pi / margin
        self.coeffs = [float(math.comb(margin, k)) for k in range(0, margin + 1, 2)]
        self.cos_powers = range(margin, -1, -2)
        self.sin2_powers = range(0, margin // 2 + 1)
        self.signs = [1 if k % 2 == 0 else -1 for k in range(margin // 2 + 1)]
        self.weight = nn.Parameter(torch.empty(input_features, output_features))

    def forward(self, input, target=None):
        return input.mm(self.weight)


class sphere20a(Sphere20a):
    """The seed's face CNN (§4.0): forward(x, y) returns the fc6 output; y matters to no head the
    seed runs. fc6: Linear(512, classnum) or LSoftmaxLinear(512, classnum)."""

    def __init__(self, classnum=3, head='linear'):
        super().__init__(head, classnum)
        if head == 'lsoftmax':
            self.fc6 = LSoftmaxLinear(512, classnum)

    def forward(self, x, y=None):
        return super().forward(x)[1]


class DenseNet(torchvision.models.DenseNet):
    """torchvision's DenseNet with torchvision 0.2.1's forward (§4.0): features, ReLU, a fixed 7x7
    average pool of stride 1 (global only for 224x224 images), flatten, classifier."""

    def forward(self, x):
        features = self.features(x)
        out = F.relu(features, inplace=True)
        out = F.avg_pool2d(out, kernel_size=7, stride=1).view(features.size(0), -1)
        return self.classifier(out)


def densenet161(num_classes):
    return DenseNet(growth_rate=48, block_config=(6, 12, 36, 24), num_init_features=96, num_classes=num_classes)


def seed_pooled(features):
    """ReLU, the fixed 7x7 pool, flatten, detached: the seed's Variable(...) of the global feature."""
    out = F.relu(features, inplace=False)
    return F.avg_pool2d(out, kernel_size=7, stride=1).view(features.size(0), -1).detach()


def run_faces(align_model, face, labels=None):
    """The seed's loop: the sphere on each image's F slots, stacked to (B, F, D)."""
    return torch.stack([align_model(face[j], labels) for j in range(face.shape[0])])


def real_counts(numberFaces, max_faces):
    return [min(int(n), max_faces) for n in numberFaces]


def attend(scores, face_features, numberFaces, seed_compat):
    """Mask, softmax over the slots, the seed's detach and zero fill -> (weights (B,1,F), attended (B,D))."""
    batch, _, slots = scores.shape
    counts = real_counts(numberFaces, slots)
    mask = torch.zeros_like(scores)
    for j, n in enumerate(counts):
        if seed_compat or n > 0:
            mask[j, 0, n:] = float('-inf')
    weights = F.softmax(scores + mask, dim=-1)
    if seed_compat:
        weights = weights.detach()
        for j, n in enumerate(counts):
            if n == 0:
                weights[j] = 0  # overwrites the NaNs of an all -inf row
    else:
        weights = weights * torch.tensor([float(n > 0) for n in counts], dtype=scores.dtype).view(batch, 1, 1)
    return weights, torch.bmm(weights, face_features).view(batch, -1)


def dot_scores(query, face_features, seed_compat):
    """(B,1,D) . faces: the seed reads the (B,F,D) memory as (B,D,F) (§4.8 step 3); corrected F^T."""
    batch, slots, dim = face_features.shape
    faces = face_features.view(batch, dim, slots) if seed_compat else face_features.transpose(1, 2)
    return torch.bmm(query.view(batch, 1, dim), faces)


class FaceAttentionLocal(nn.Module):
    """Local / Local_FineTune / Local_FineTune_LSoftmax (§4.4-4.6): the sphere's 3 logits per face,
    averaged over the first min(n, F) faces; zero logits for an image without faces."""
    SEED_NAME = 'FaceAttention'

    def __init__(self, align_model):
        super().__init__()
        self.align_model = align_model

    def forward(self, face, numberFaces, labels=None, phase=None):
        per_face = run_faces(self.align_model, face, labels)
        out = torch.zeros(face.shape[0], per_face.shape[2], dtype=per_face.dtype)
        for j, n in enumerate(real_counts(numberFaces, face.shape[1])):
            if n > 0:
                out[j] = per_face[j, :n].mean(0)
        return out


class FaceAttentionAverage(nn.Module):
    """Average (§4.7): [BN(mean O-Net feature), BN(detached pooled DenseNet feature)] -> dropout -> 3."""
    SEED_NAME = 'FaceAttention'

    def __init__(self, global_model, global_dim=2208, face_dim=256):
        super().__init__()
        self.global_model = global_model
        self.global_fc3_debug = nn.Linear(face_dim + global_dim, 3)
        nn.init.kaiming_normal_(self.global_fc3_debug.weight)
        self.global_fc3_debug.bias.data.fill_(0.01)
        self.bn_global = nn.BatchNorm1d(global_dim, affine=False)
        self.bn_face_features = nn.BatchNorm1d(face_dim, affine=False)
        self.dropout = nn.Dropout(0.5)

    def forward(self, image, face_features_initial, numberFaces):
        global_features = seed_pooled(self.global_model(image))
        face_features = face_features_initial.sum(1)
        for j, n in enumerate(real_counts(numberFaces, face_features_initial.shape[1])):
            if n > 0:
                face_features[j] = face_features[j] / n
        x = torch.cat((self.bn_face_features(face_features), self.bn_global(global_features)), dim=1)
        return self.global_fc3_debug(self.dropout(x))


def seed_linear(fan_in, fan_out):
    layer = nn.Linear(fan_in, fan_out)
    nn.init.kaiming_normal_(layer.weight)
    layer.bias.data.fill_(0.01)
    return layer


class FaceAttentionA(nn.Module):
    """Attention_A (§4.8): score of slot t = g . (the seed's reshape of) F."""
    SEED_NAME = 'FaceAttention'

    def __init__(self, global_model, align_model, seed_compat=True):
        super().__init__()
        self.global_model = global_model
        self.align_model = align_model
        self.global_fc_main = seed_linear(2208, 256)
        self.global_fc3_debug = seed_linear(512, 3)
        self.global_fc_main_dropout = nn.Dropout(0.5)
        self.align_model_dropout = nn.Dropout(0.5)
        self.bn_debug_face = nn.BatchNorm1d(256, affine=False)
        self.bn_debug_global = nn.BatchNorm1d(256, affine=False)
        self.seed_compat = seed_compat

    def forward(self, image, face, numberFaces, labels=None, return_attention=False):
        global_features = self.global_fc_main_dropout(self.global_fc_main(seed_pooled(self.global_model(image))))
        face_features = self.align_model_dropout(run_faces(self.align_model, face, labels))
        scores = dot_scores(global_features, face_features, self.seed_compat)
        weights, attended = attend(scores, face_features, numberFaces, self.seed_compat)
        x = torch.cat((self.bn_debug_face(attended), self.bn_debug_global(global_features)), dim=1)
        out = self.global_fc3_debug(x)
        return (out, weights.view(face.shape[0], -1)) if return_attention else out


class FaceAttentionB(nn.Module):
    """Attention_B / Attention_B_EmotiC (§4.9): score = global_fc(g) (64) . (the seed's reshape of) F (64)."""
    SEED_NAME = 'FaceAttention'

    def __init__(self, global_model, align_model, seed_compat=True, emotic=False):
        super().__init__()
        self.global_model = global_model
        self.align_model = align_model
        self.global_fc3_debug = seed_linear(320, 3)
        self.global_fc = seed_linear(256, 64)
        self.global_fc_dropout = nn.Dropout(0.5)
        self.global_fc_main_dropout = nn.Dropout(0.5)
        self.align_model_dropout = nn.Dropout(0.5)
        self.bn_debug_face = nn.BatchNorm1d(64, affine=False)
        self.bn_debug_global = nn.BatchNorm1d(256, affine=False)
        if not emotic:
            self.global_fc_main = seed_linear(2208, 256)
        self.emotic = emotic
        self.seed_compat = seed_compat

    def forward(self, image, face, numberFaces, labels=None, return_attention=False):
        if self.emotic:
            global_features_main = self.global_fc_main_dropout(self.global_model(image))
        else:
            pooled = seed_pooled(self.global_model(image))
            global_features_main = self.global_fc_main_dropout(self.global_fc_main(pooled))
        global_features = self.global_fc_dropout(self.global_fc(global_features_main))
        face_features = self.align_model_dropout(run_faces(self.align_model, face, labels))
        scores = dot_scores(global_features, face_features, self.seed_compat)
        weights, attended = attend(scores, face_features, numberFaces, self.seed_compat)
        x = torch.cat((self.bn_debug_face(attended), self.bn_debug_global(global_features_main)), dim=1)
        out = self.global_fc3_debug(x)
        return (out, weights.view(face.shape[0], -1)) if return_attention else out


class FaceAttentionC(nn.Module):
    """Attention_C / Attention_C_EmotiC (§4.10): score = attentionfc2(attentionfc1(F_t)); no g in it."""
    SEED_NAME = 'FaceAttention'

    def __init__(self, global_model, align_model, seed_compat=True, emotic=False):
        super().__init__()
        self.global_model = global_model
        self.align_model = align_model
        self.global_fc3_debug = seed_linear(512, 3)
        self.attentionfc1 = seed_linear(256, 64)
        self.attentionfc2 = seed_linear(64, 1)
        if not emotic:
            self.global_fc_main = seed_linear(2208, 256)
        self.attentionfc1_dropout = nn.Dropout(0.5)
        self.global_fc_main_dropout = nn.Dropout(0.5)
        self.align_model_dropout = nn.Dropout(0.5)
        self.bn_debug_face = nn.BatchNorm1d(256, affine=False)
        self.bn_debug_global = nn.BatchNorm1d(256, affine=False)
        self.emotic = emotic
        self.seed_compat = seed_compat

    def forward(self, image, face, numberFaces, labels=None, return_attention=False):
        if self.emotic:
            global_features = self.global_fc_main_dropout(self.global_model(image))
        else:
            global_features = self.global_fc_main_dropout(self.global_fc_main(seed_pooled(self.global_model(image))))
        batch, slots = face.shape[0], face.shape[1]
        face_features = torch.zeros(batch, slots, 256, dtype=global_features.dtype)
        scores = torch.zeros(batch, slots, 1, dtype=global_features.dtype)
        for j in range(batch):
            face_features[j] = self.align_model_dropout(self.align_model(face[j], labels))
            scores[j] = self.attentionfc2(self.attentionfc1_dropout(self.attentionfc1(face_features[j])))
        weights, attended = attend(scores.view(batch, 1, slots), face_features, numberFaces, self.seed_compat)
        x = torch.cat((self.bn_debug_face(attended), self.bn_debug_global(global_features)), dim=1)
        out = self.global_fc3_debug(x)
        return (out, weights.view(batch, -1)) if return_attention else out


def global_simple():
    """Global_Simple / Global_EmotiC (§4.1-4.2): DenseNet-161 with a 3-way classifier."""
    model = densenet161(1000)
    model.classifier = nn.Linear(2208, 3)
    return model


def local(head='linear'):
    """Local (head 'linear') or Local_FineTune_LSoftmax ('lsoftmax'), in the seed's mean wrapper."""
    return FaceAttentionLocal(sphere20a(3, head))


def average():
    return FaceAttentionAverage(densenet161(3).features)


def _global_model(emotic):
    if not emotic:
        return densenet161(3).features
    model = densenet161(3)
    model.classifier = seed_linear(2208, 256)
    return model


def _align_model(classes):
    model = sphere20a(classes)
    model.fc6 = seed_linear(512, classes)
    return model


def attention_a(seed_compat=True):
    return FaceAttentionA(_global_model(False), _align_model(256), seed_compat)


def attention_b(seed_compat=True, emotic=False):
    return FaceAttentionB(_global_model(emotic), _align_model(64), seed_compat, emotic)


def attention_c(seed_compat=True, emotic=False):
    return FaceAttentionC(_global_model(emotic), _align_model(256), seed_compat, emotic)


def build(arch, seed_compat=True, emotic=False, local_head='linear'):
    """The model of a C++ ModelInfo (max_faces needs no builder argument: no weight depends on it,
    the slots are the faces tensor's second dimension)."""
    if arch == 'global':
        return global_simple()
    if arch == 'local':
        return local(local_head)
    if arch == 'average':
        return average()
    if arch == 'attention_a':
        return attention_a(seed_compat)
    if arch == 'attention_b':
        return attention_b(seed_compat, emotic)
    if arch == 'attention_c':
        return attention_c(seed_compat, emotic)
    raise ValueError(f'unknown arch {arch!r} (expected one of {", ".join(ARCHS)})')


def run(model, images=None, faces=None, counts=None, face_features=None):
    """One forward with the GlerInput tensors (counts: a sequence or an i64 tensor) -> (logits,
    attention weights (B, F) or None)."""
    counts = [int(n) for n in counts] if counts is not None else None
    if isinstance(model, FaceAttentionLocal):
        return model(faces, counts), None
    if isinstance(model, FaceAttentionAverage):
        return model(images, face_features, counts), None
    if isinstance(model, (FaceAttentionA, FaceAttentionB, FaceAttentionC)):
        return model(images, faces, counts, return_attention=True)
    return model(images), None
