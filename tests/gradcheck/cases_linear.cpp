#include "core/ops.h"
#include "layers/linear.h"
#include "tests/gradcheck/gradcheck.h"

namespace gler::gradcheck {
namespace {

GLER_GRADCHECK("layers/linear") {
  Generator gen(3);
  auto lin = std::make_shared<layers::Linear>(4, 3, true, gen);
  lin->to(DType::f64);
  return check([lin](const std::vector<Tensor>& in) { return lin->forward(in[0]); },
               {random_input({2, 5, 4}, 1), lin->weight, lin->bias});
}

}  // namespace
}  // namespace gler::gradcheck
