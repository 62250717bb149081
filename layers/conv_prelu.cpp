#include "layers/conv_prelu.h"

#include "core/autograd.h"

namespace gler::layers {

Tensor conv2d_prelu(const Conv2d& conv, const PReLU& act, const MaxPool2d* pool, const Tensor& x) {
  if (needs_graph({x, conv.weight, conv.bias, act.weight})) {
    const Tensor y = act.forward(conv.forward(x));
    return pool ? pool->forward(y) : y;
  }
  const Shape conv_shape = conv2d_output_shape(x, conv.weight, conv.bias, conv.args);
  check_prelu(x, conv_shape, act.weight);
  Tensor y = Tensor::empty(pool ? pool2d_output_shape("max_pool2d", conv_shape, pool->args) : conv_shape, x.dtype(),
                           x.device());
  x.backend().conv2d_prelu_forward(conv.args, x, conv.weight, conv.bias.defined() ? &conv.bias : nullptr,
                                   act.weight, pool ? &pool->args : nullptr, y);
  return y;
}

}  // namespace gler::layers
