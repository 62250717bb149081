// In-place elementwise updates for optimisers, on the backend's elementwise kernels (which read
// and write element by element, so an output may alias an input) and its fused multiply-add.
// Each writes into its first argument, bumps its version (autograd refuses a graph whose saved
// tensors changed) and allocates nothing. Operands must share the target's device, dtype and
// element count; a scalar operand is a one-element tensor of that dtype (a Python scalar in a
// PyTorch op is rounded to the tensor's dtype the same way).
#pragma once
#include "core/tensor.h"

namespace gler::train::inplace {

void scale(const Tensor& out, const Tensor& x, double alpha);       // out = alpha * x
void add_scalar(const Tensor& out, const Tensor& x, double alpha);  // out = x + alpha
void sqrt(const Tensor& out, const Tensor& x);                      // out = sqrt(x)
void add(const Tensor& out, const Tensor& a, const Tensor& b);      // out = a + b
void div(const Tensor& out, const Tensor& a, const Tensor& b);      // out = a / b (b may hold one element)
void maximum(const Tensor& out, const Tensor& a, const Tensor& b);  // out = max(a, b)
void copy(const Tensor& out, const Tensor& x);                      // out = x
// One rounding, as PyTorch's add(c, a, alpha=alpha) and addcmul(c, a, b) (value folded into a) round.
void add_scaled(const Tensor& out, const Tensor& c, const Tensor& a, double alpha);       // out = c + alpha * a
void multiply_add(const Tensor& out, const Tensor& c, const Tensor& a, const Tensor& b);  // out = c + a * b

}  // namespace gler::train::inplace
