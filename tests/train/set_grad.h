// Gives a parameter a chosen gradient (the tests feed optimisers known gradients without a
// backward pass), or none.
#pragma once
#include "core/tensor.h"

namespace gler::test {

inline void set_grad(const Tensor& param, const Tensor& grad) {
  param.impl().grad = grad.defined() ? grad.clone().impl_ptr() : nullptr;
}

}  // namespace gler::test
