// Gradient checks of Flatten and its MTCNN H/W-swapping variant (odd, unequal H and W).
#include "layers/flatten.h"
#include "tests/gradcheck/gradcheck.h"

namespace gler::gradcheck {
namespace {

GLER_GRADCHECK("layers/flatten") {
  return check([](const std::vector<Tensor>& in) { return layers::flatten(in[0]); }, {random_input({2, 3, 2, 3}, 1)});
}
GLER_GRADCHECK("layers/flatten swap_hw") {
  auto flat = std::make_shared<layers::Flatten>(true);
  return check([flat](const std::vector<Tensor>& in) { return flat->forward(in[0]); }, {random_input({2, 3, 3, 5}, 1)});
}

}  // namespace
}  // namespace gler::gradcheck
