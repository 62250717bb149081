#include "layers/activations.h"

#include "core/autograd.h"
#include "core/backend.h"

namespace gler::layers {

void check_prelu(const Tensor& x, const Shape& shape, const Tensor& weight) {
  GLER_CHECK(is_floating(x.dtype()), "prelu needs a floating input, got " << describe(x));
  const std::int64_t channels = shape.size() >= 2 ? shape[1] : 1;
  GLER_CHECK(weight.ndim() == 1 && (weight.numel() == 1 || weight.numel() == channels),
             "prelu: weight " << weight.shape().str() << " needs 1 or " << channels << " slopes for input "
                              << shape.str());
  check_same_dtype(x, weight, "prelu");
  check_same_device(x, weight, "prelu");
}

Tensor prelu(const Tensor& x, const Tensor& weight) {
  check_prelu(x, x.shape(), weight);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  x.backend().prelu_forward(x, weight, y);
  return record(y, "prelu", {x, weight}, [x = x.detach(), w = weight.detach()](const Tensor& g) {
    Tensor gx = Tensor::empty(x.shape(), x.dtype(), x.device());
    Tensor gw = Tensor::empty(w.shape(), w.dtype(), w.device());
    g.backend().prelu_backward(x, w, g, gx, &gw);
    return std::vector<Tensor>{gx, gw};
  });
}

PReLU::PReLU(std::int64_t num_parameters, double init) {
  weight = register_parameter("weight", Tensor::full({num_parameters}, init));
}

}  // namespace gler::layers
