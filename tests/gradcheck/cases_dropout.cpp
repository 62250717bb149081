// Gradient check of dropout in training: a fresh generator with a fixed seed in every evaluation
// gives the same mask, so the function is differentiable (gx = mask · g).
#include "core/init.h"
#include "layers/dropout.h"
#include "tests/gradcheck/gradcheck.h"

namespace gler::gradcheck {
namespace {

GLER_GRADCHECK("layers/dropout train") {
  return check(
      [](const std::vector<Tensor>& in) {
        Generator gen(99);
        return layers::dropout(in[0], 0.3, true, gen);
      },
      {random_input({3, 4, 5}, 1)});
}

GLER_GRADCHECK("layers/dropout eval") {
  auto drop = std::make_shared<layers::Dropout>(0.5);
  drop->eval();
  return check(
      [drop](const std::vector<Tensor>& in) {
        Generator gen(99);
        return drop->forward(in[0], gen);
      },
      {random_input({2, 5}, 1)});
}

}  // namespace
}  // namespace gler::gradcheck
