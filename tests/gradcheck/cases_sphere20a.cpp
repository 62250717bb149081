// Gradient checks of sphere20a as a whole (its residual units, per-channel PReLUs, fc5 over the
// flattened map, each fc6 head), on narrow nets of the same structure: widths 2-3, a 6-d feature,
// built for 32×16 inputs and also run on the transposed 16×32 layout, input and every parameter.
#include <memory>

#include "core/ops.h"
#include "layers/cross_entropy.h"
#include "models/sphere20a.h"
#include "tests/gradcheck/gradcheck.h"

namespace gler::gradcheck {
namespace {

using models::SphereHead;

std::shared_ptr<models::Sphere20a> tiny(SphereHead head) {
  Generator init(3);
  auto m = std::make_shared<models::Sphere20a>(
      init,
      models::Sphere20aOptions{
          .head = head, .classes = 3, .widths = {2, 2, 3, 3}, .feature_dim = 6, .input_height = 32, .input_width = 16});
  m->to(DType::f64);
  return m;
}

std::vector<Tensor> with_parameters(Tensor x, const Module& m) {
  std::vector<Tensor> inputs{std::move(x)};
  for (const Tensor& p : m.parameters()) inputs.push_back(p);
  return inputs;
}

Result linear_case(const Shape& x_shape) {
  auto m = tiny(SphereHead::linear);
  return check([m](const std::vector<Tensor>& in) { return m->forward(in[0]).logits; },
               with_parameters(random_input(x_shape, 1, 0.0, 1.0), *m));
}

GLER_GRADCHECK("models/sphere20a tiny linear head 32x16") { return linear_case({2, 3, 32, 16}); }
GLER_GRADCHECK("models/sphere20a tiny linear head 16x32") { return linear_case({1, 3, 16, 32}); }

GLER_GRADCHECK("models/sphere20a tiny cross-entropy step") {
  auto m = tiny(SphereHead::linear);
  m->train();
  const Tensor labels = Tensor::from_vector<std::int64_t>({2, 0}, {2});
  return check(
      [m, labels](const std::vector<Tensor>& in) { return layers::cross_entropy(m->forward(in[0]).logits, labels); },
      with_parameters(random_input({2, 3, 16, 32}, 2, 0.0, 1.0), *m));
}

GLER_GRADCHECK("models/sphere20a tiny angle head") {
  auto m = tiny(SphereHead::angle);
  return check(
      [m](const std::vector<Tensor>& in) {
        const models::SphereOutput out = m->forward(in[0]);
        return ops::concat({out.angle.cos_theta, out.angle.phi_theta}, 1);
      },
      with_parameters(random_input({1, 3, 32, 16}, 3, 0.0, 1.0), *m));
}

GLER_GRADCHECK("models/sphere20a tiny lsoftmax margin train") {
  auto m = tiny(SphereHead::lsoftmax);
  m->train();
  const Tensor labels = Tensor::from_vector<std::int64_t>({1}, {1});
  return check([m, labels](const std::vector<Tensor>& in) { return m->forward(in[0], labels).logits; },
               with_parameters(random_input({1, 3, 16, 32}, 4, 0.0, 1.0), *m));
}

}  // namespace
}  // namespace gler::gradcheck
