// Conv2d: cross-correlation of x [N,C,H,W] with weight [K, C/groups, R, S] (+ bias [K]), as
// torch.nn.functional.conv2d, with any stride, padding, dilation and groups (depthwise included).
#pragma once
#include "core/backend.h"
#include "core/init.h"
#include "core/module.h"

namespace gler::layers {

// Output extent of one spatial axis, (in + 2·pad - dilation·(kernel-1) - 1) / stride + 1, for an
// input at least as large as the dilated kernel (conv2d checks that first).
std::int64_t conv2d_output_size(std::int64_t in, std::int64_t kernel, int stride, int pad, int dilation);

// The output shape [N,K,P,Q] of conv2d(x, weight, bias, args), after checking every operand
// (shapes, dtypes, devices, arguments).
Shape conv2d_output_shape(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dArgs& args);

// x [N,C,H,W] -> [N,K,P,Q]; bias may be undefined.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dArgs& args = {});

// The square-kernel options of torch.nn.Conv2d.
struct Conv2dOptions {
  int stride = 1, padding = 0, dilation = 1, groups = 1;
  bool bias = true;
};

class Conv2d : public Module {
 public:
  // PyTorch's default initialisation, drawn from `gen`: weight first, then bias.
  Conv2d(std::int64_t in_channels, std::int64_t out_channels, int kernel_size, Generator& gen,
         const Conv2dOptions& options = {});
  Tensor forward(const Tensor& x) const { return conv2d(x, weight, bias, args); }

  Tensor weight, bias;
  Conv2dArgs args;
};

}  // namespace gler::layers
