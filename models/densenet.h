// The DenseNet family (Huang et al. 2017) as torchvision builds it: one network parameterised by
// growth rate, block configuration, initial features, bottleneck size, drop rate and classes, with
// torchvision's presets and state-dict keys (features.conv0 ... features.norm5, classifier), so
// torchvision checkpoints load by name (models::load_weights; torchvision <= 0.2.1's `norm.1`
// names are mapped on import). Dense blocks are layers::DenseBlock, the fused memory-efficient
// block. Layout of DenseNet-161 and the seed's head: SEED_SPEC.md §4.0.
//
// Inference: run forward/features under a NoGradGuard (core/autograd.h). Without it, every
// parameter requires a gradient, so each forward records the graph and keeps its activations.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/init.h"
#include "core/module.h"
#include "layers/activations.h"
#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/dense_block.h"
#include "layers/linear.h"
#include "layers/pool2d.h"

namespace gler::models {

struct DenseNetConfig {
  std::int64_t growth_rate = 32;
  std::vector<int> block_config{6, 12, 24, 16};  // dense layers per block
  std::int64_t num_init_features = 64;
  std::int64_t bn_size = 4;  // bottleneck width = bn_size · growth_rate
  double drop_rate = 0.0;    // dropout after each dense layer, in training
  std::int64_t num_classes = 1000;

  friend bool operator==(const DenseNetConfig&, const DenseNetConfig&) = default;
  // Channels of the final feature map (2208 for densenet161); throws on an invalid config.
  std::int64_t num_features() const;
};

// torchvision's densenet121, densenet161, densenet169 and densenet201 (bn_size 4, no dropout).
const std::vector<std::string>& densenet_archs();
DenseNetConfig densenet_config(const std::string& arch, std::int64_t num_classes = 1000);

// torchvision's DenseNet.features: conv0 (7x7 s2) - norm0 - relu0 - pool0 (3x3 s2 max) - dense
// blocks with transitions between them - norm5. There is no ReLU after norm5. It is a Module of
// its own because the seed's fusion models keep only this part (`global_model.conv0...`).
class DenseNetFeatures : public Module {
 public:
  DenseNetFeatures(const DenseNetConfig& config, Generator& gen);
  // x [N, 3, H, W] -> [N, num_features, H/32, W/32] (each halving floors, as in PyTorch). `gen`
  // draws the dropout masks; needed only in training with drop_rate > 0.
  // In eval mode without a graph it runs over chunks of 4 images, which bounds its memory.
  Tensor forward(const Tensor& x, Generator* gen = nullptr) const;

  const std::int64_t num_features;
  layers::Conv2d conv0;
  layers::BatchNorm2d norm0;
  layers::ReLU relu0;
  layers::MaxPool2d pool0;
  std::vector<std::unique_ptr<layers::DenseBlock>> blocks;            // denseblock1..
  std::vector<std::unique_ptr<layers::Transition>> transitions;       // transition1.., one fewer
  layers::BatchNorm2d norm5;

 private:
  Tensor forward_batch(const Tensor& x, Generator* gen) const;
};

// The seed's global head (torchvision 0.2.1's DenseNet.forward before the classifier): ReLU, then
// avg_pool2d with a fixed 7x7 kernel, stride 1, then flatten. It is a global average only for a
// 7x7 map (a 224x224 input), the only size the seed feeds, so other sizes are refused.
// features [N, C, 7, 7] -> [N, C].
Tensor seed_global_pool(const Tensor& features);

class DenseNet : public Module {
 public:
  // torchvision's initialisation, drawn from `gen`: kaiming_normal_ (fan_in, gain √2) for every
  // conv, BatchNorm weight 1 and bias 0, classifier weight PyTorch's default and bias 0.
  DenseNet(const DenseNetConfig& config, Generator& gen);

  // The feature map after norm5 (torchvision's model.features(x)).
  Tensor features(const Tensor& x, Generator* gen = nullptr) const { return trunk.forward(x, gen); }
  // The seed's pooled global vector: seed_global_pool(features(x)), [N, num_features].
  Tensor global_features(const Tensor& x, Generator* gen = nullptr) const;
  // torchvision's forward: features, ReLU, global average pool, flatten, classifier -> logits
  // [N, num_classes]. For a 224x224 input this equals the seed's 0.2.1 forward.
  Tensor forward(const Tensor& x, Generator* gen = nullptr) const;

  const DenseNetConfig config;
  DenseNetFeatures trunk;  // registered as "features"
  layers::Linear classifier;
};

}  // namespace gler::models
