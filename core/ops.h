// The differentiable tensor operations every model is written in. Each op checks its inputs
// (errors name both shapes), dispatches to the tensor's backend and records its backward.
// Network layers (convolution, batch norm, pooling, losses) live in layers/.
#pragma once
#include <cstdint>
#include <vector>

#include "core/backend.h"
#include "core/tensor.h"

namespace gler::ops {

// Elementwise, broadcasting the operand with fewer elements over the other's leading dims
// (its shape must be a suffix of the other's, or it must hold one element).
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);

Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor scale(const Tensor& x, double alpha);       // alpha * x
Tensor add_scalar(const Tensor& x, double alpha);  // x + alpha
Tensor pow(const Tensor& x, double exponent);
Tensor clamp_min(const Tensor& x, double lo);
Tensor clamp(const Tensor& x, double lo, double hi);  // gradient passes at both bounds, as in PyTorch
Tensor leaky_relu(const Tensor& x, double slope);
// Not differentiable (their outputs carry no graph).
Tensor acos(const Tensor& x);
Tensor floor(const Tensor& x);
Tensor sign(const Tensor& x);  // -1, 0 or 1

// Reductions along one axis; the axis is removed unless keepdim.
Tensor sum(const Tensor& x, int axis, bool keepdim = false);
Tensor mean(const Tensor& x, int axis, bool keepdim = false);
Tensor max(const Tensor& x, int axis, bool keepdim = false);  // gradient flows to the first maximum
Tensor argmax(const Tensor& x, int axis);                     // i64, first maximum (numpy's rule)
Tensor sum_all(const Tensor& x);                              // scalar
Tensor mean_all(const Tensor& x);

// a [M,K] · b [K,N], or batched a [B,M,K] · b [B,K,N] / b [K,N]; transposes are free.
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);

Tensor softmax(const Tensor& x, int axis);
Tensor log_softmax(const Tensor& x, int axis);

Tensor concat(const std::vector<Tensor>& parts, int axis);
std::vector<Tensor> split(const Tensor& x, const std::vector<std::int64_t>& sizes, int axis);
// Range [begin, end) along any axis (a copy; Tensor::slice is the free leading-dim view).
Tensor narrow(const Tensor& x, int axis, std::int64_t begin, std::int64_t end);

// out[..., i, ...] = x[..., idx[..., i, ...], ...] along `axis`; idx (i64) has x's shape
// without that axis. gather(logits [B,C], labels [B], 1) picks each sample's class score.
Tensor gather(const Tensor& x, const Tensor& idx, int axis);
// gather's inverse placement: a copy of x with out[..., idx[...], ...] = values along `axis` (idx and
// values have x's shape without that axis), torch's x.scatter(axis, idx[:,None], values[:,None]).
// Replaces one class score per sample (margin losses); x must be finite at the replaced entries.
Tensor scatter(const Tensor& x, const Tensor& idx, const Tensor& values, int axis);
// Inserts an axis of size n at `axis` of the result and repeats x along it (torch's
// x.unsqueeze(axis).expand(...), as a copy): broadcasting along any axis, not only leading ones.
Tensor expand(const Tensor& x, int axis, std::int64_t n);

Tensor permute(const Tensor& x, const std::vector<int>& perm);
Tensor transpose(const Tensor& x, int a, int b);

}  // namespace gler::ops
