// The oneDNN (DNNL) convolution path of the CPU backend, used for f32 when gler is built with
// oneDNN (GLER_WITH_DNNL): its direct convolution kernels beat im2col + GEMM on 3x3 layers, where
// the col buffer (9x the input) costs memory traffic that a direct kernel never pays.
// Tensors are contiguous NCHW / KCRS f32, as in core/backend.h; f64 keeps im2col (gradchecks).
#pragma once
#include "core/backend.h"
#include "core/tensor.h"

namespace gler::dnnl_conv {

// Whether the convolution of x [N,C,H,W] by w [K,C/groups,R,S] into y [N,K,P,Q] should run on
// oneDNN: f32, and big enough to pay oneDNN's fixed cost per call. GLER_CONV_IM2COL=1 in the
// environment forces im2col (to compare the two paths in one build).
bool wanted(const Tensor& x, const Tensor& w, const Shape& y);

void forward(const Conv2dArgs& a, const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y);
// Backend::conv2d_prelu_forward (operands checked, `conv` the convolution's output shape) where
// the primitive computes in a channel-blocked format: its output stays in that format in a
// per-thread buffer, and PReLU, pooling and the return to NCHW happen in one pass over it
// (prelu_max_pool_blocked). Returns false, doing nothing, for a primitive on plain formats.
bool forward_prelu(const Conv2dArgs& a, const Tensor& x, const Tensor& w, const Tensor* bias, const Tensor& slope,
                   const Pool2dArgs* pool, const Shape& conv, Tensor& y);
void backward_data(const Conv2dArgs& a, const Tensor& gy, const Tensor& w, Tensor& gx);
void backward_filter(const Conv2dArgs& a, const Tensor& x, const Tensor& gy, Tensor& gw, Tensor* gb);

}  // namespace gler::dnnl_conv
