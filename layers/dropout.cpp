#include "layers/dropout.h"

#include "core/backend.h"
#include "core/ops.h"

namespace gler::layers {

namespace {
void check_p(double p) { GLER_CHECK(p >= 0.0 && p <= 1.0, "dropout probability must be in [0, 1], got " << p); }
}  // namespace

Tensor dropout(const Tensor& x, double p, bool training, Generator& gen) {
  check_p(p);
  GLER_CHECK(is_floating(x.dtype()), "dropout needs a floating input, got " << describe(x));
  if (!training || p == 0.0) return x;
  if (p == 1.0) return ops::scale(x, 0.0);  // PyTorch: all zeros
  // u ∈ (0, 1] drawn as 1 - p + u ∈ (1 - p, 2 - p]: its floor is 1 exactly when u >= p (kept,
  // probability 1 - p) and 0 otherwise; then scale the kept entries by 1/(1 - p).
  Tensor mask = Tensor::empty(x.shape(), x.dtype(), x.device());
  x.backend().random_uniform(mask, gen.seed(), gen.advance(static_cast<std::uint64_t>(x.numel())), 1.0 - p, 2.0 - p);
  x.backend().unary(UnaryOp::floor, mask, 0.0, mask);
  x.backend().unary(UnaryOp::scale, mask, 1.0 / (1.0 - p), mask);
  return ops::mul(x, mask);
}

Dropout::Dropout(double p_) : p(p_) { check_p(p_); }

}  // namespace gler::layers
