"""The seed's Attention_C (tests/models/seed_models.FaceAttentionC) at the tiny shapes of
tests/models/gler_test_models.h tiny_shapes(): a one-block DenseNet (6 features at 7x7 from 28x28),
sphere20a of widths (2, 2, 3, 3) with a 6-d fc5 for 16x32 faces, heads of width 4 (face and global
features) and 3 (attentionfc1). seed_models.FaceAttentionC hard-codes the full widths (256 in its
forward), so the forward is restated here with the tiny one; every step is the seed's."""
import torch
import torch.nn as nn

import seed_models as sm
from sphere_torch import Sphere20a

HEAD, ATTENTION, SPHERE_FEATURES, GLOBAL_FEATURES = 4, 3, 6, 6


class TinySphere(Sphere20a):
    def __init__(self):
        super().__init__('linear', HEAD, widths=(2, 2, 3, 3), feature_dim=SPHERE_FEATURES, fc5_in=3 * 2 * 1)

    def forward(self, x, y=None):
        return super().forward(x)[1]


class TinyAttentionC(sm.FaceAttentionC):
    def __init__(self):
        nn.Module.__init__(self)
        self.global_model = sm.DenseNet(growth_rate=2, block_config=(1,), num_init_features=4, bn_size=2,
                                        num_classes=3).features
        self.align_model = TinySphere()
        self.global_fc3_debug = sm.seed_linear(2 * HEAD, 3)
        self.attentionfc1 = sm.seed_linear(HEAD, ATTENTION)
        self.attentionfc2 = sm.seed_linear(ATTENTION, 1)
        self.global_fc_main = sm.seed_linear(GLOBAL_FEATURES, HEAD)
        self.attentionfc1_dropout = nn.Dropout(0.5)
        self.global_fc_main_dropout = nn.Dropout(0.5)
        self.align_model_dropout = nn.Dropout(0.5)
        self.bn_debug_face = nn.BatchNorm1d(HEAD, affine=False)
        self.bn_debug_global = nn.BatchNorm1d(HEAD, affine=False)
        self.emotic = False
        self.seed_compat = True

    def forward(self, image, face, numberFaces, labels=None, return_attention=False):
        global_features = self.global_fc_main_dropout(self.global_fc_main(sm.seed_pooled(self.global_model(image))))
        batch, slots = face.shape[0], face.shape[1]
        face_features = torch.zeros(batch, slots, HEAD, dtype=global_features.dtype)
        scores = torch.zeros(batch, slots, 1, dtype=global_features.dtype)
        for j in range(batch):
            face_features[j] = self.align_model_dropout(self.align_model(face[j], labels))
            scores[j] = self.attentionfc2(self.attentionfc1_dropout(self.attentionfc1(face_features[j])))
        weights, attended = sm.attend(scores.view(batch, 1, slots), face_features, numberFaces, self.seed_compat)
        x = torch.cat((self.bn_debug_face(attended), self.bn_debug_global(global_features)), dim=1)
        out = self.global_fc3_debug(x)
        return (out, weights.view(batch, -1)) if return_attention else out
