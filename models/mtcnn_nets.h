// The three MTCNN networks (Zhang et al. 2016) as the seed's PyTorch port defines them
// (SEED_SPEC §3.1, TropComplique/mtcnn-pytorch): unpadded stride-1 convolutions, per-channel
// PReLU, max-pooling with ceil_mode (partial windows at the far edges), and before R-Net's and
// O-Net's dense layers a flatten in (C, W, H) order, because the Caffe-ported weights were
// transposed. Face probabilities are softmax over the two class scores (index 1 = face).
// Parameter names are those of data/mtcnn/mtcnn.safetensors without its pnet./rnet./onet. prefix.
//
// Inputs are RGB, (u8 − 127.5) · 0.0078125, NCHW (mtcnn_normalize). Callers run inference under
// NoGradGuard; O-Net must be in eval mode then (its dropout), which MtcnnNets sets.
#pragma once
#include <cstdint>
#include <string>

#include "core/init.h"
#include "core/module.h"
#include "layers/activations.h"
#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "layers/flatten.h"
#include "layers/linear.h"
#include "layers/pool2d.h"

namespace gler::models {

// u8 images [N, H, W, 3] (RGB, as decoded) -> f32 [N, 3, H, W], (u8 − 127.5) · 0.0078125 (exact in f32).
Tensor mtcnn_normalize(const Tensor& images_nhwc_u8);

// Channel widths: the real nets use the defaults (the only ones the bundled weights fit);
// gradient checks build narrower ones.
struct PNetWidths {
  std::int64_t conv1 = 10, conv2 = 16, conv3 = 32;
};
struct RNetWidths {
  std::int64_t conv1 = 28, conv2 = 48, conv3 = 64, conv4 = 128;  // conv4: the 576 -> 128 dense layer
};
struct ONetWidths {
  std::int64_t conv1 = 32, conv2 = 64, conv3 = 64, conv4 = 128, conv5 = 256;  // conv5: 1152 -> 256 dense
};

struct PNetOutput {
  Tensor probs;    // [N, 2, h, w], softmax over dim 1; probs[:, 1] is the face probability map
  Tensor offsets;  // [N, 4, h, w], box regression (tx1, ty1, tx2, ty2)
};
struct RNetOutput {
  Tensor probs;    // [N, 2]
  Tensor offsets;  // [N, 4]
};
struct ONetOutput {
  Tensor probs;      // [N, 2]
  Tensor offsets;    // [N, 4]
  Tensor landmarks;  // [N, 10], relative to the input box: x of the 5 points, then their y
  Tensor features;   // [N, 256], prelu5's output: the seed's "face features" (SEED_SPEC §3.6) fed to Average
};

// Fully convolutional: a 12×12 window per output cell, stride 2; any input of at least 12×12.
class PNet : public Module {
 public:
  // PyTorch's default initialisation, drawn from gen (real use loads the bundled weights).
  explicit PNet(Generator& gen, const PNetWidths& widths = {});
  PNetOutput forward(const Tensor& x) const;

  struct Features : Module {
    Features(Generator& gen, const PNetWidths& w);
    layers::Conv2d conv1;
    layers::PReLU prelu1;
    layers::MaxPool2d pool1;
    layers::Conv2d conv2;
    layers::PReLU prelu2;
    layers::Conv2d conv3;
    layers::PReLU prelu3;
  } features;
  layers::Conv2d conv4_1, conv4_2;
};

// Input [N, 3, 24, 24].
class RNet : public Module {
 public:
  explicit RNet(Generator& gen, const RNetWidths& widths = {});
  RNetOutput forward(const Tensor& x) const;

  struct Features : Module {
    Features(Generator& gen, const RNetWidths& w);
    layers::Conv2d conv1;
    layers::PReLU prelu1;
    layers::MaxPool2d pool1;
    layers::Conv2d conv2;
    layers::PReLU prelu2;
    layers::MaxPool2d pool2;
    layers::Conv2d conv3;
    layers::PReLU prelu3;
    layers::Flatten flatten{true};
    layers::Linear conv4;
    layers::PReLU prelu4;
  } features;
  layers::Linear conv5_1, conv5_2;
};

// Input [N, 3, 48, 48]. Dropout(0.25) between conv5 and prelu5 is active only in training mode,
// which then needs a generator.
class ONet : public Module {
 public:
  explicit ONet(Generator& gen, const ONetWidths& widths = {});
  ONetOutput forward(const Tensor& x, Generator* dropout_gen = nullptr) const;

  struct Features : Module {
    Features(Generator& gen, const ONetWidths& w);
    layers::Conv2d conv1;
    layers::PReLU prelu1;
    layers::MaxPool2d pool1;
    layers::Conv2d conv2;
    layers::PReLU prelu2;
    layers::MaxPool2d pool2;
    layers::Conv2d conv3;
    layers::PReLU prelu3;
    layers::MaxPool2d pool3;
    layers::Conv2d conv4;
    layers::PReLU prelu4;
    layers::Flatten flatten{true};
    layers::Linear conv5;
    layers::Dropout drop5{0.25};
    layers::PReLU prelu5;
  } features;
  layers::Linear conv6_1, conv6_2, conv6_3;
};

// The three nets with the weights of a file such as data/mtcnn/mtcnn.safetensors (names
// pnet.*, rnet.*, onet.*), all in eval mode.
class MtcnnNets {
  Generator init_{0};  // only fills the parameters before the load overwrites them; declared first

 public:
  explicit MtcnnNets(const std::string& weights_path);
  PNet pnet;
  RNet rnet;
  ONet onet;
};

}  // namespace gler::models
