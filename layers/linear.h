// Linear: y = x·Wᵀ + b, W [out, in] (PyTorch layout and names: weight, bias).
#pragma once
#include "core/init.h"
#include "core/module.h"

namespace gler::layers {

// x [..., in] -> [..., out]; bias may be undefined.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias);

class Linear : public Module {
 public:
  // PyTorch's default initialisation, drawn from `gen`.
  Linear(std::int64_t in_features, std::int64_t out_features, bool bias, Generator& gen);
  Tensor forward(const Tensor& x) const { return linear(x, weight, bias); }

  Tensor weight, bias;
};

}  // namespace gler::layers
