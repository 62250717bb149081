// sphere20a (SphereFace, Liu et al. 2017, as clcarwin/sphereface_pytorch defines it), the seed's
// per-face CNN (SEED_SPEC §4.0): four stages of 3×3 pad-1 convolutions, each followed by its own
// per-channel PReLU; a stride-2 convolution opens each stage, then 1, 2, 4, 1 residual units
// x + PReLU(conv_b(PReLU(conv_a(x)))); flatten; fc5 to the 512-d face feature; a swappable fc6.
// Parameter names are the seed's state-dict keys: conv1_1, relu1_1, conv1_2, ..., fc5, fc6.
//
// Input layouts. SphereFace trained on portrait faces, 112 high × 96 wide; the seed feeds its
// landscape eye-aligned crops, 96 high × 112 wide, unnormalised in [0, 1] (SEED_SPEC §2.2, §8.7).
// The trunk is fully convolutional, so both work: the final map is 512×7×6 for 112×96 and 512×6×7
// for 96×112, and both flatten (C, H, W row-major, as torch's view) to the 21504 inputs of fc5.
// On the landscape input the pretrained fc5 therefore reads its weights at permuted spatial
// positions; that is what the seed's checkpoints were fine-tuned with, so it is reproduced as is.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/init.h"
#include "core/module.h"
#include "layers/activations.h"
#include "layers/angle_softmax.h"
#include "layers/conv2d.h"
#include "layers/linear.h"
#include "layers/lsoftmax.h"

namespace gler::models {

enum class SphereHead {
  none,      // no fc6: the net is a 512-d feature extractor
  linear,    // Linear(512, classes) with bias: Local / Local_FineTune (3), the attention models (256, 64)
  lsoftmax,  // LSoftmaxLinear(512, classes), weight [512, classes], no bias: Local_FineTune_LSoftmax
  angle,     // AngleLinear(512, classes, m): SphereFace's own head (10574 classes in sphere20a_20171020.pth)
};

// How a linear fc6 is drawn: PyTorch's default (the seed's Local heads), or the seed's explicit
// init of its attention models' heads: kaiming_normal_ weight (std √(2/512)), bias 0.01.
enum class LinearInit { pytorch_default, kaiming };

struct Sphere20aOptions {
  SphereHead head = SphereHead::linear;
  std::int64_t classes = 3;
  LinearInit linear_init = LinearInit::pytorch_default;
  int angle_margin = 4;                // AngleLinear's m
  layers::LSoftmaxOptions lsoftmax{};  // margin, annealing, seed_compatible
  // The real net uses the defaults. Narrower and smaller variants exist for gradient checks:
  // the four stage widths, the feature size and the portrait input size fc5 is sized for.
  std::array<std::int64_t, 4> widths{64, 128, 256, 512};
  std::int64_t feature_dim = 512;
  std::int64_t input_height = 112, input_width = 96;
};

struct SphereOutput {
  Tensor feature;              // fc5: [B, feature_dim]
  Tensor logits;               // linear and lsoftmax heads: [B, classes]; undefined otherwise
  layers::AngleOutputs angle;  // angle head: ‖x‖cos θ and ‖x‖ψ(θ), [B, classes] each; undefined otherwise
};

class Sphere20a : public Module {
 public:
  // Every layer is drawn from `gen` in state-dict order with PyTorch's defaults (the seed's
  // sphere20a has no explicit init): convs, fc5 and a linear fc6 U(±1/√fan_in), PReLU slopes 0.25;
  // fc6 as `options` says.
  explicit Sphere20a(Generator& gen, const Sphere20aOptions& options = {});

  // x [B, 3, H, W] -> the fc5 feature [B, feature_dim]. Any H, W whose final map flattens to fc5's
  // in_features is accepted: 112×96 and 96×112 for the real net.
  Tensor features(const Tensor& x) const;
  // features(x), then fc6. `labels` (i64 [B]) only matter to an L-Softmax head in training mode.
  // Not const: an L-Softmax head advances its β annealing on each margin forward.
  SphereOutput forward(const Tensor& x, const Tensor& labels = Tensor());

  const Sphere20aOptions& options() const { return options_; }
  std::int64_t fc5_in_features() const { return fc5->weight.size(1); }

  // Registered under the seed's names; fc6 is the one of linear / lsoftmax / angle that options.head names.
  std::vector<std::unique_ptr<layers::Conv2d>> convs;  // conv1_1, conv1_2, ..., conv4_3
  std::vector<std::unique_ptr<layers::PReLU>> relus;   // relu1_1, ..., relu4_3
  std::unique_ptr<layers::Linear> fc5;
  std::unique_ptr<layers::Linear> fc6_linear;
  std::unique_ptr<layers::LSoftmaxLinear> fc6_lsoftmax;
  std::unique_ptr<layers::AngleLinear> fc6_angle;

 private:
  Sphere20aOptions options_;
};

}  // namespace gler::models
