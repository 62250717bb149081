// DenseNet composites with torchvision's names: _DenseLayer (norm1, relu1, conv1, norm2, relu2,
// conv2), _DenseBlock (denselayer1..N) and _Transition (norm, relu, conv, pool).
//
// DenseBlock::forward is memory-efficient in the sense of Pleiss et al. 2017 ("Memory-Efficient
// Implementation of DenseNets"): instead of concatenating the growing input at every layer, all
// features of the block live in one buffer that each layer writes its new channels into once.
// The buffer is channel-major, [C_final, N, H, W], so the input of layer l (the first c_l
// channels) is a contiguous prefix: BN1 runs on it in place as [1, c_l, N·H·W] and the 1×1 conv
// is one GEMM over it, with no copy. The BN1-ReLU output lives in one scratch buffer shared by all
// layers and is recomputed in backward; only the buffer, each layer's conv1 output and its
// BN2-ReLU output (bn_size·growth channels each) are kept for backward, so memory grows linearly
// with depth instead of quadratically. Without a graph (NoGradGuard) nothing per layer is kept.
#pragma once
#include <memory>
#include <vector>

#include "core/init.h"
#include "core/module.h"
#include "layers/activations.h"
#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/pool2d.h"

namespace gler::layers {

// BN-ReLU-Conv1x1 (in -> bn_size·growth) -BN-ReLU-Conv3x3 pad 1 (-> growth), no conv biases,
// then dropout with drop_rate in training (which then needs a generator).
class DenseLayer : public Module {
 public:
  DenseLayer(std::int64_t in_channels, std::int64_t growth_rate, std::int64_t bn_size, double drop_rate,
             Generator& gen);
  // x [N, in, H, W] -> the new features [N, growth, H, W] (torchvision's _DenseLayer on one tensor).
  Tensor forward(const Tensor& x, Generator* gen = nullptr) const;

  BatchNorm2d norm1;
  ReLU relu1;
  Conv2d conv1;
  BatchNorm2d norm2;
  ReLU relu2;
  Conv2d conv2;
  const double drop_rate;
};

class DenseBlock : public Module {
 public:
  DenseBlock(int num_layers, std::int64_t in_channels, std::int64_t bn_size, std::int64_t growth_rate,
             double drop_rate, Generator& gen);
  // x [N, in, H, W] -> [N, in + num_layers·growth, H, W]: the input, then each layer's features.
  Tensor forward(const Tensor& x, Generator* gen = nullptr) const;

  std::vector<std::unique_ptr<DenseLayer>> layers;
  const std::int64_t in_channels, growth_rate;
};

// BN-ReLU-Conv1x1 (no bias) -AvgPool2d(2, 2).
class Transition : public Module {
 public:
  Transition(std::int64_t in_channels, std::int64_t out_channels, Generator& gen);
  Tensor forward(const Tensor& x) const { return pool.forward(conv.forward(relu.forward(norm.forward(x)))); }

  BatchNorm2d norm;
  ReLU relu;
  Conv2d conv;
  AvgPool2d pool;
};

}  // namespace gler::layers
