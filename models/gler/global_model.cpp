// Global_Simple / Global_EmotiC (SEED_SPEC §4.1-4.2): DenseNet-161 on the whole image with a
// 3-way classifier, forward as torchvision 0.2.1 (features, ReLU, the fixed 7x7 average pool,
// classifier). Names as torchvision's (features.*, classifier.*), no prefix.
#include "models/densenet.h"
#include "models/gler/archs.h"
#include "models/gler/inputs.h"

namespace gler::models {
namespace {

class GlobalModel : public GlerModel {
 public:
  GlobalModel(const ModelInfo& info, Generator& gen, const ModelShapes& shapes)
      : GlerModel(info), image_size_(shapes.image_size), net_(with_classes(shapes.densenet), gen) {
    register_module("features", net_.trunk);
    register_module("classifier", net_.classifier);
    // The seed replaces torchvision's classifier by a fresh nn.Linear(2208, 3): PyTorch's default
    // init, so the bias is drawn too (torchvision's own is 0).
    default_bias_init_(net_.classifier.bias, fan_in(net_.classifier.weight), gen);
  }

  GlerOutput forward(const GlerInput& input, Generator* gen) override {
    const Tensor& w = net_.classifier.weight;
    check_images(input.images, image_size_, {"global", w.dtype(), w.device()});
    return {net_.classifier.forward(seed_global_pool(net_.features(input.images, gen))), Tensor()};
  }

 private:
  static DenseNetConfig with_classes(DenseNetConfig config) {
    config.num_classes = 3;
    return config;
  }

  std::int64_t image_size_;
  DenseNet net_;
};

}  // namespace

std::unique_ptr<GlerModel> make_global_model(const ModelInfo& info, Generator& gen, const ModelShapes& shapes) {
  return std::make_unique<GlobalModel>(info, gen, shapes);
}

}  // namespace gler::models
