#include "layers/linear.h"

#include "core/ops.h"

namespace gler::layers {

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  GLER_CHECK(weight.ndim() == 2 && x.ndim() >= 1 && x.size(-1) == weight.size(1),
             "linear: input " << x.shape().str() << " does not match weight " << weight.shape().str());
  Shape out_shape = x.shape();
  out_shape[out_shape.size() - 1] = weight.size(0);
  const Tensor x2 = x.reshape({x.numel() / x.size(-1), x.size(-1)});
  Tensor y = ops::matmul(x2, weight, false, true);
  if (bias.defined()) y = ops::add(y, bias);
  return y.reshape(out_shape);
}

Linear::Linear(std::int64_t in_features, std::int64_t out_features, bool with_bias, Generator& gen) {
  weight = register_parameter("weight", Tensor::empty({out_features, in_features}));
  default_weight_init_(weight, gen);
  if (with_bias) {
    bias = register_parameter("bias", Tensor::empty({out_features}));
    default_bias_init_(bias, in_features, gen);
  }
}

}  // namespace gler::layers
