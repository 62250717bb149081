#include "models/densenet.h"

#include <algorithm>
#include <map>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops.h"
#include "layers/flatten.h"

namespace gler::models {

std::int64_t DenseNetConfig::num_features() const {
  GLER_CHECK(growth_rate > 0 && num_init_features > 0 && bn_size > 0 && !block_config.empty(),
             "DenseNet needs a positive growth rate, initial features and bn_size and at least one block; got growth "
                 << growth_rate << ", init " << num_init_features << ", bn_size " << bn_size << ", "
                 << block_config.size() << " blocks");
  GLER_CHECK(drop_rate >= 0 && drop_rate < 1, "DenseNet drop_rate must be in [0, 1), got " << drop_rate);
  GLER_CHECK(num_classes > 0, "DenseNet needs at least one class, got " << num_classes);
  std::int64_t channels = num_init_features;
  for (std::size_t i = 0; i < block_config.size(); ++i) {
    GLER_CHECK(block_config[i] > 0, "DenseNet block " << i + 1 << " has " << block_config[i] << " layers");
    channels += block_config[i] * growth_rate;
    if (i + 1 < block_config.size()) channels /= 2;  // torchvision's transition: num_features // 2
  }
  return channels;
}

const std::vector<std::string>& densenet_archs() {
  static const std::vector<std::string> archs{"densenet121", "densenet161", "densenet169", "densenet201"};
  return archs;
}

DenseNetConfig densenet_config(const std::string& arch, std::int64_t num_classes) {
  // torchvision.models.densenet: (growth_rate, block_config, num_init_features).
  static const std::map<std::string, DenseNetConfig> presets{
      {"densenet121", {32, {6, 12, 24, 16}, 64}},
      {"densenet161", {48, {6, 12, 36, 24}, 96}},
      {"densenet169", {32, {6, 12, 32, 32}, 64}},
      {"densenet201", {32, {6, 12, 48, 32}, 64}},
  };
  const auto it = presets.find(arch);
  GLER_CHECK(it != presets.end(),
             "unknown DenseNet '" << arch << "' (densenet121, densenet161, densenet169 or densenet201)");
  DenseNetConfig config = it->second;
  config.num_classes = num_classes;
  return config;
}

DenseNetFeatures::DenseNetFeatures(const DenseNetConfig& config, Generator& gen)
    : num_features(config.num_features()),
      conv0(3, config.num_init_features, 7, gen, layers::Conv2dOptions{.stride = 2, .padding = 3, .bias = false}),
      norm0(config.num_init_features),
      pool0(3, 2, 1),
      norm5(num_features) {
  register_module("conv0", conv0);
  register_module("norm0", norm0);
  register_module("relu0", relu0);
  register_module("pool0", pool0);
  std::int64_t channels = config.num_init_features;
  for (std::size_t i = 0; i < config.block_config.size(); ++i) {
    const std::string n = std::to_string(i + 1);
    blocks.push_back(std::make_unique<layers::DenseBlock>(config.block_config[i], channels, config.bn_size,
                                                          config.growth_rate, config.drop_rate, gen));
    register_module("denseblock" + n, *blocks.back());
    channels += config.block_config[i] * config.growth_rate;
    if (i + 1 < config.block_config.size()) {
      transitions.push_back(std::make_unique<layers::Transition>(channels, channels / 2, gen));
      register_module("transition" + n, *transitions.back());
      channels /= 2;
    }
  }
  register_module("norm5", norm5);
}

namespace {

// In inference (eval mode, no graph) the trunk runs over chunks of this many images, so its
// activations take a bounded amount of memory however large the batch: at batch 64 the stem alone
// holds three maps of 308 MB. Eval-mode BatchNorm and the rest of the trunk treat each image on
// its own, so the outputs are the same. 4: larger batches are no faster per image on the CPU
// (docs/PERFORMANCE.md).
constexpr std::int64_t kInferenceChunk = 4;

}  // namespace

Tensor DenseNetFeatures::forward(const Tensor& x, Generator* gen) const {
  GLER_CHECK(x.ndim() == 4 && x.size(1) == 3, "DenseNet expects images [N, 3, H, W], got " << describe(x));
  const std::int64_t n = x.size(0);
  if (grad_enabled() || is_training() || n <= kInferenceChunk) return forward_batch(x, gen);
  std::vector<Tensor> parts;
  for (std::int64_t begin = 0; begin < n; begin += kInferenceChunk)
    parts.push_back(forward_batch(x.slice(begin, std::min(n, begin + kInferenceChunk)), gen));
  return ops::concat(parts, 0);
}

Tensor DenseNetFeatures::forward_batch(const Tensor& x, Generator* gen) const {
  // One statement per stage: each input is released as soon as its output exists (a nested call
  // would keep every temporary to the end of the expression), so without a graph only two stages
  // are alive at a time.
  Tensor y = conv0.forward(x);
  y = norm0.forward(y);
  y = relu0.forward(y);
  y = pool0.forward(y);
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    y = blocks[i]->forward(y, gen);
    if (i < transitions.size()) y = transitions[i]->forward(y);
  }
  return norm5.forward(y);
}

Tensor seed_global_pool(const Tensor& features) {
  GLER_CHECK(features.ndim() == 4 && features.size(2) == 7 && features.size(3) == 7,
             "the seed's DenseNet head pools a fixed 7x7 window and needs a 7x7 feature map (a 224x224 image), got "
                 << describe(features));
  return layers::flatten(layers::avg_pool2d(ops::relu(features), layers::pool2d_args(7, 1)));
}

DenseNet::DenseNet(const DenseNetConfig& config_, Generator& gen)
    : config(config_), trunk(config, gen), classifier(trunk.num_features, config.num_classes, true, gen) {
  register_module("features", trunk);
  register_module("classifier", classifier);
  // torchvision re-initialises after construction: every conv kaiming_normal_, BatchNorm 1 and 0
  // (already the layers' defaults), Linear bias 0; the classifier weight keeps PyTorch's default.
  kaiming_normal_(trunk.conv0.weight, gen);
  for (const auto& block : trunk.blocks)
    for (const auto& layer : block->layers) {
      kaiming_normal_(layer->conv1.weight, gen);
      kaiming_normal_(layer->conv2.weight, gen);
    }
  for (const auto& transition : trunk.transitions) kaiming_normal_(transition->conv.weight, gen);
  classifier.bias.fill_(0.0);
}

Tensor DenseNet::global_features(const Tensor& x, Generator* gen) const { return seed_global_pool(features(x, gen)); }

Tensor DenseNet::forward(const Tensor& x, Generator* gen) const {
  return classifier.forward(layers::flatten(layers::global_avg_pool2d(ops::relu(features(x, gen)))));
}

}  // namespace gler::models
