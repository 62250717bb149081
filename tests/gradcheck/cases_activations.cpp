// Gradient checks of PReLU (input and slopes) and the ReLU module.
#include "layers/activations.h"
#include "tests/gradcheck/gradcheck.h"

namespace gler::gradcheck {
namespace {

Result prelu_case(const Shape& x_shape, std::int64_t slopes) {
  auto prelu = std::make_shared<layers::PReLU>(slopes);
  prelu->to(DType::f64);
  prelu->weight.copy_(random_input({slopes}, 7, -0.5, 0.5));
  return check([prelu](const std::vector<Tensor>& in) { return prelu->forward(in[0]); },
               {random_input(x_shape, 1), prelu->weight});
}

GLER_GRADCHECK("layers/prelu per-channel NCHW") { return prelu_case({2, 3, 4, 5}, 3); }
GLER_GRADCHECK("layers/prelu shared NCHW") { return prelu_case({2, 3, 3, 3}, 1); }
GLER_GRADCHECK("layers/prelu per-channel NC") { return prelu_case({4, 6}, 6); }
GLER_GRADCHECK("layers/prelu 1-D") { return prelu_case({7}, 1); }

GLER_GRADCHECK("layers/relu module") {
  auto relu = std::make_shared<layers::ReLU>();
  return check([relu](const std::vector<Tensor>& in) { return relu->forward(in[0]); }, {random_input({3, 5}, 2)});
}

}  // namespace
}  // namespace gler::gradcheck
