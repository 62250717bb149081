// Gradient checks of a whole (tiny) DenseNet, logits with respect to the image and every
// parameter: stem, two fused dense blocks, the transition, norm5 and the head composed end to end.
#include <string>

#include "models/densenet.h"
#include "tests/gradcheck/gradcheck.h"

namespace gler::gradcheck {
namespace {

Result densenet_case(const Shape& x_shape, bool training) {
  Generator init(8);
  auto net = std::make_shared<models::DenseNet>(
      models::DenseNetConfig{.growth_rate = 2, .block_config = {1, 1}, .num_init_features = 4, .bn_size = 2,
                             .num_classes = 3},
      init);
  net->to(DType::f64);
  // Non-trivial BatchNorm state, so eval mode is not the identity and the affine terms matter.
  std::uint64_t seed = 200;
  for (const auto& [name, t] : net->state_dict()) {
    if (name.find("norm") == std::string::npos || name.ends_with("num_batches_tracked")) continue;
    if (name.ends_with("running_var") || name.ends_with(".weight"))
      t.copy_(random_input(t.shape(), seed++, 0.5, 1.5));
    else
      t.copy_(random_input(t.shape(), seed++, -0.3, 0.3));
  }
  net->train(training);
  std::vector<Tensor> inputs{random_input(x_shape, 9)};
  for (const Tensor& p : net->parameters()) inputs.push_back(p);
  return check([net](const std::vector<Tensor>& in) { return net->forward(in[0]); }, inputs);
}

// 16x16: 8x8 after conv0, 4x4 after pool0, block 1, 2x2 after the transition, block 2.
GLER_GRADCHECK("models/densenet train") { return densenet_case({2, 3, 16, 16}, true); }
GLER_GRADCHECK("models/densenet eval") { return densenet_case({2, 3, 8, 8}, false); }

}  // namespace
}  // namespace gler::gradcheck
