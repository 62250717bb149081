// Activations with a module form: ReLU (over ops::relu) and PReLU (learned slopes, weight [C] or [1]).
#pragma once
#include "core/module.h"
#include "core/ops.h"

namespace gler::layers {

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) const { return ops::relu(x); }
};

// y = x > 0 ? x : a·x with a = weight[c] for channel c (dim 1 of x), or weight[0] for every
// element when weight has one entry. A 0-D or 1-D x has one channel.
Tensor prelu(const Tensor& x, const Tensor& weight);
// prelu's operand checks for an input of `shape` with x's dtype and device (x itself may have
// another shape: a fused op checks the input it will compute before computing it).
void check_prelu(const Tensor& x, const Shape& shape, const Tensor& weight);

class PReLU : public Module {
 public:
  explicit PReLU(std::int64_t num_parameters = 1, double init = 0.25);
  Tensor forward(const Tensor& x) const { return prelu(x, weight); }

  Tensor weight;
};

}  // namespace gler::layers
