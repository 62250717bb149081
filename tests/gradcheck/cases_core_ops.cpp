// Gradient checks of the generic ops in core/ops.h.
#include "core/ops.h"
#include "tests/gradcheck/gradcheck.h"

namespace gler::gradcheck {
namespace {

using Inputs = const std::vector<Tensor>&;

Result unary_case(Tensor (*op)(const Tensor&), double lo, double hi) {
  return check([op](Inputs in) { return op(in[0]); }, {random_input({3, 4, 5}, 1, lo, hi)});
}

GLER_GRADCHECK("ops/add broadcast") {
  return check([](Inputs in) { return ops::add(in[0], in[1]); }, {random_input({2, 3, 4}, 1), random_input({3, 4}, 2)});
}
GLER_GRADCHECK("ops/sub broadcast") {
  return check([](Inputs in) { return ops::sub(in[1], in[0]); }, {random_input({2, 3, 4}, 1), random_input({4}, 2)});
}
GLER_GRADCHECK("ops/mul broadcast") {
  return check([](Inputs in) { return ops::mul(in[0], in[1]); }, {random_input({2, 3, 4}, 1), random_input({3, 4}, 2)});
}
GLER_GRADCHECK("ops/mul scalar operand") {
  return check([](Inputs in) { return ops::mul(in[1], in[0]); }, {random_input({2, 3}, 1), random_input({1}, 2)});
}
GLER_GRADCHECK("ops/div") {
  return check([](Inputs in) { return ops::div(in[0], in[1]); },
               {random_input({2, 3, 4}, 1), random_input({4}, 2, 0.5, 2.0)});
}
GLER_GRADCHECK("ops/neg") { return unary_case(ops::neg, -1, 1); }
GLER_GRADCHECK("ops/exp") { return unary_case(ops::exp, -2, 2); }
GLER_GRADCHECK("ops/log") { return unary_case(ops::log, 0.2, 3); }
GLER_GRADCHECK("ops/sqrt") { return unary_case(ops::sqrt, 0.2, 3); }
GLER_GRADCHECK("ops/abs") { return unary_case(ops::abs, 0.1, 1); }
GLER_GRADCHECK("ops/relu") { return unary_case(ops::relu, -1, 1); }
GLER_GRADCHECK("ops/sigmoid") { return unary_case(ops::sigmoid, -3, 3); }
GLER_GRADCHECK("ops/tanh") { return unary_case(ops::tanh, -3, 3); }
GLER_GRADCHECK("ops/scale") {
  return check([](Inputs in) { return ops::scale(in[0], -2.5); }, {random_input({7}, 1)});
}
GLER_GRADCHECK("ops/add_scalar") {
  return check([](Inputs in) { return ops::add_scalar(in[0], 3.0); }, {random_input({7}, 1)});
}
GLER_GRADCHECK("ops/pow") {
  return check([](Inputs in) { return ops::pow(in[0], 2.7); }, {random_input({3, 5}, 1, 0.2, 2.0)});
}
GLER_GRADCHECK("ops/clamp_min") {
  return check([](Inputs in) { return ops::clamp_min(in[0], 0.1); }, {random_input({3, 5}, 1)});
}
GLER_GRADCHECK("ops/clamp") {
  return check([](Inputs in) { return ops::clamp(in[0], -0.4, 0.5); }, {random_input({3, 5}, 1)});
}
GLER_GRADCHECK("ops/leaky_relu") {
  return check([](Inputs in) { return ops::leaky_relu(in[0], 0.2); }, {random_input({3, 5}, 1)});
}
GLER_GRADCHECK("ops/sum axis1") {
  return check([](Inputs in) { return ops::sum(in[0], 1); }, {random_input({2, 3, 4}, 1)});
}
GLER_GRADCHECK("ops/sum axis-1 keepdim") {
  return check([](Inputs in) { return ops::sum(in[0], -1, true); }, {random_input({2, 3, 4}, 1)});
}
GLER_GRADCHECK("ops/mean axis0") {
  return check([](Inputs in) { return ops::mean(in[0], 0); }, {random_input({2, 3, 4}, 1)});
}
GLER_GRADCHECK("ops/max axis2") {
  return check([](Inputs in) { return ops::max(in[0], 2); }, {random_input({2, 3, 4}, 1)});
}
GLER_GRADCHECK("ops/sum_all") {
  return check([](Inputs in) { return ops::sum_all(in[0]); }, {random_input({2, 3}, 1)});
}
GLER_GRADCHECK("ops/mean_all") {
  return check([](Inputs in) { return ops::mean_all(in[0]); }, {random_input({2, 3}, 1)});
}
GLER_GRADCHECK("ops/matmul") {
  return check([](Inputs in) { return ops::matmul(in[0], in[1]); }, {random_input({3, 4}, 1), random_input({4, 5}, 2)});
}
GLER_GRADCHECK("ops/matmul transposed") {
  return check([](Inputs in) { return ops::matmul(in[0], in[1], true, true); },
               {random_input({4, 3}, 1), random_input({5, 4}, 2)});
}
GLER_GRADCHECK("ops/bmm") {
  return check([](Inputs in) { return ops::matmul(in[0], in[1]); },
               {random_input({2, 3, 4}, 1), random_input({2, 4, 5}, 2)});
}
GLER_GRADCHECK("ops/bmm transposed") {
  return check([](Inputs in) { return ops::matmul(in[0], in[1], true, true); },
               {random_input({2, 4, 3}, 1), random_input({2, 5, 4}, 2)});
}
GLER_GRADCHECK("ops/bmm shared rhs") {
  return check([](Inputs in) { return ops::matmul(in[0], in[1], false, true); },
               {random_input({2, 3, 4}, 1), random_input({5, 4}, 2)});
}
GLER_GRADCHECK("ops/bmm shared rhs transposed lhs") {
  return check([](Inputs in) { return ops::matmul(in[0], in[1], true, false); },
               {random_input({2, 4, 3}, 1), random_input({4, 5}, 2)});
}
GLER_GRADCHECK("ops/softmax axis1") {
  return check([](Inputs in) { return ops::softmax(in[0], 1); }, {random_input({2, 5, 3}, 1, -3, 3)});
}
GLER_GRADCHECK("ops/log_softmax axis-1") {
  return check([](Inputs in) { return ops::log_softmax(in[0], -1); }, {random_input({4, 6}, 1, -3, 3)});
}
GLER_GRADCHECK("ops/concat axis1") {
  return check([](Inputs in) { return ops::concat({in[0], in[1], in[0]}, 1); },
               {random_input({2, 3, 2}, 1), random_input({2, 1, 2}, 2)});
}
GLER_GRADCHECK("ops/split axis2") {
  return check([](Inputs in) { auto p = ops::split(in[0], {1, 3}, 2); return ops::mul(p[1], p[1]); },
               {random_input({2, 3, 4}, 1)});
}
GLER_GRADCHECK("ops/narrow axis0") {
  return check([](Inputs in) { return ops::narrow(in[0], 0, 1, 3); }, {random_input({4, 3}, 1)});
}
GLER_GRADCHECK("ops/gather labels") {
  return check([](Inputs in) { return ops::gather(in[0], Tensor::from_vector<std::int64_t>({2, 0, 1, 2}, {4}), 1); },
               {random_input({4, 3}, 1)});
}
GLER_GRADCHECK("ops/scatter labels") {
  const Tensor idx = Tensor::from_vector<std::int64_t>({2, 0, 1, 2}, {4});
  return check([idx](Inputs in) { return ops::scatter(in[0], idx, in[1], 1); },
               {random_input({4, 3}, 1), random_input({4}, 2)});
}
GLER_GRADCHECK("ops/scatter axis0 of 3d") {
  const Tensor idx = Tensor::from_vector<std::int64_t>({0, 2, 1, 1, 2, 0, 0, 1}, {2, 4});
  return check([idx](Inputs in) { return ops::mul(ops::scatter(in[0], idx, in[1], 0), in[0]); },
               {random_input({3, 2, 4}, 1), random_input({2, 4}, 2)});
}
GLER_GRADCHECK("ops/expand middle axis") {
  return check([](Inputs in) { return ops::mul(ops::expand(in[0], 1, 4), ops::expand(in[0], 1, 4)); },
               {random_input({2, 3}, 1)});
}
GLER_GRADCHECK("ops/expand last axis") {
  return check([](Inputs in) { return ops::expand(in[0], 2, 3); }, {random_input({2, 5}, 1)});
}
GLER_GRADCHECK("ops/permute") {
  return check([](Inputs in) { return ops::mul(ops::permute(in[0], {2, 0, 1}), ops::permute(in[0], {2, 0, 1})); },
               {random_input({2, 3, 4}, 1)});
}
GLER_GRADCHECK("ops/transpose") {
  return check([](Inputs in) { return ops::matmul(ops::transpose(in[0], 0, 1), in[0]); }, {random_input({3, 4}, 1)});
}
GLER_GRADCHECK("tensor/reshape and slice") {
  return check([](Inputs in) { return ops::mul(in[0].reshape({6, 2}).slice(1, 4), in[0].reshape({6, 2}).slice(3, 6)); },
               {random_input({3, 4}, 1)});
}
GLER_GRADCHECK("tensor/to f32 and back") {
  return check([](Inputs in) { return ops::exp(in[0].to(DType::f32)).to(DType::f64); }, {random_input({3}, 1)},
               Options{1e-3, 1e-4, 1e-2});
}

}  // namespace
}  // namespace gler::gradcheck
