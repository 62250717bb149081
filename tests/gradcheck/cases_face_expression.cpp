// Gradient checks of face-api's face-expression network (models/face_expression.h): TensorFlow's
// 'same' padding (the zero row/column concatenated after the input for stride 2 on even sizes),
// the separable conv, the dense block's sums and ReLUs, and the whole narrow network with its
// 7x7 average pool and fc, on the 112x112 input it takes (parameters only there: the input's
// 37632 elements would make the check slow; the blocks' cases cover input gradients).
#include <memory>

#include "models/face_expression.h"
#include "tests/gradcheck/gradcheck.h"

namespace gler::gradcheck {
namespace {

std::vector<Tensor> with_parameters(std::vector<Tensor> inputs, const Module& m) {
  for (const Tensor& p : m.parameters()) inputs.push_back(p);
  return inputs;
}

Result same_case(const Shape& x, int stride) {
  Generator init(1);
  auto conv = std::make_shared<layers::Conv2d>(x[1], 3, 3, init, layers::Conv2dOptions{.stride = stride});
  conv->to(DType::f64);
  return check([conv](const std::vector<Tensor>& in) { return models::conv2d_same(in[0], *conv); },
               with_parameters({random_input(x, 2)}, *conv));
}

GLER_GRADCHECK("models/face_expression conv same stride2 even") { return same_case({2, 2, 6, 8}, 2); }
GLER_GRADCHECK("models/face_expression conv same stride2 odd") { return same_case({1, 2, 5, 7}, 2); }
GLER_GRADCHECK("models/face_expression conv same stride1") { return same_case({1, 2, 5, 4}, 1); }

Result block_case(bool first) {
  Generator init(3);
  auto block = std::make_shared<models::FaceExpressionBlock>(first ? 3 : 2, 3, first, init);
  block->to(DType::f64);
  return check([block](const std::vector<Tensor>& in) { return block->forward(in[0]); },
               with_parameters({random_input({2, first ? 3 : 2, 8, 6}, 4)}, *block));
}

GLER_GRADCHECK("models/face_expression dense block first") { return block_case(true); }
GLER_GRADCHECK("models/face_expression dense block separable") { return block_case(false); }

GLER_GRADCHECK("models/face_expression net narrow 112x112") {
  Generator init(5);
  auto net = std::make_shared<models::FaceExpressionNet>(init, std::array<std::int64_t, 4>{2, 2, 3, 3}, 4);
  net->to(DType::f64);
  Tensor x = random_input({1, 3, 112, 112}, 6);
  x.requires_grad_(false);
  return check([net, x](const std::vector<Tensor>&) { return net->forward(x); }, with_parameters({}, *net));
}

}  // namespace
}  // namespace gler::gradcheck
