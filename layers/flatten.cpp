#include "layers/flatten.h"

#include "core/ops.h"

namespace gler::layers {

Tensor flatten(const Tensor& x) {
  GLER_CHECK(x.ndim() >= 1, "flatten needs a batch dimension, got a scalar");
  const std::int64_t n = x.shape()[0];
  return x.reshape({n, n > 0 ? x.numel() / n : x.shape().prod(1, x.ndim())});
}

Tensor flatten_swap_hw(const Tensor& x) {
  GLER_CHECK(x.ndim() == 4, "flatten_swap_hw needs [N, C, H, W], got " << x.shape().str());
  return flatten(ops::transpose(x, 2, 3));
}

}  // namespace gler::layers
