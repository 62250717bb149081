// Gradient checks of BatchNorm1d/2d: input, weight and bias, in train mode (batch statistics)
// and eval mode (running statistics), with and without affine, on edge shapes.
#include "layers/batch_norm.h"
#include "tests/gradcheck/gradcheck.h"

namespace gler::gradcheck {
namespace {

// Non-trivial affine parameters and running statistics, so every term of the gradient matters.
template <class BN>
std::shared_ptr<BN> make_bn(std::int64_t channels, bool affine, bool training) {
  auto bn = std::make_shared<BN>(channels, 1e-5, 0.1, affine);
  bn->to(DType::f64);
  if (affine) {
    bn->weight.copy_(random_input({channels}, 11, 0.5, 1.5));
    bn->bias.copy_(random_input({channels}, 12));
  }
  bn->running_mean.copy_(random_input({channels}, 13));
  bn->running_var.copy_(random_input({channels}, 14, 0.5, 2.0));
  bn->train(training);
  return bn;
}

template <class BN>
Result bn_case(const Shape& x_shape, bool affine, bool training) {
  auto bn = make_bn<BN>(x_shape[1], affine, training);
  std::vector<Tensor> inputs{random_input(x_shape, 1, -2.0, 2.0)};
  if (affine) {
    inputs.push_back(bn->weight);
    inputs.push_back(bn->bias);
  }
  return check([bn](const std::vector<Tensor>& in) { return bn->forward(in[0]); }, inputs);
}

GLER_GRADCHECK("layers/batch_norm2d train") { return bn_case<layers::BatchNorm2d>({2, 3, 5, 7}, true, true); }
GLER_GRADCHECK("layers/batch_norm2d eval") { return bn_case<layers::BatchNorm2d>({2, 3, 5, 7}, true, false); }
GLER_GRADCHECK("layers/batch_norm2d train batch1") { return bn_case<layers::BatchNorm2d>({1, 2, 3, 3}, true, true); }
GLER_GRADCHECK("layers/batch_norm2d train 1x1 spatial") {
  return bn_case<layers::BatchNorm2d>({3, 2, 1, 1}, true, true);
}
GLER_GRADCHECK("layers/batch_norm2d train no affine") { return bn_case<layers::BatchNorm2d>({2, 3, 3, 2}, false, true); }
GLER_GRADCHECK("layers/batch_norm1d train") { return bn_case<layers::BatchNorm1d>({5, 4}, true, true); }
GLER_GRADCHECK("layers/batch_norm1d eval") { return bn_case<layers::BatchNorm1d>({5, 4}, true, false); }
GLER_GRADCHECK("layers/batch_norm1d train batch2") { return bn_case<layers::BatchNorm1d>({2, 3}, true, true); }
GLER_GRADCHECK("layers/batch_norm1d eval batch1") { return bn_case<layers::BatchNorm1d>({1, 3}, true, false); }
GLER_GRADCHECK("layers/batch_norm1d train no affine") { return bn_case<layers::BatchNorm1d>({6, 3}, false, true); }
GLER_GRADCHECK("layers/batch_norm1d eval no affine") { return bn_case<layers::BatchNorm1d>({6, 3}, false, false); }
GLER_GRADCHECK("layers/batch_norm1d train NCL") { return bn_case<layers::BatchNorm1d>({2, 3, 5}, true, true); }

}  // namespace
}  // namespace gler::gradcheck
