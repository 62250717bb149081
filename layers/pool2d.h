// 2-D pooling as torch.nn.functional: max_pool2d, avg_pool2d (count_include_pad, ceil_mode) and
// global average pooling (adaptive_avg_pool2d(x, 1)). No parameters; the Module classes exist so
// that networks can hold them as named children the way their PyTorch definitions do.
#pragma once
#include "core/backend.h"
#include "core/module.h"

namespace gler::layers {

// PyTorch's pooling output size: floor or ceil of (in + 2·pad - kernel) / stride, plus one; in
// ceil_mode the last window must start inside the input or its left padding.
std::int64_t pool2d_output_size(std::int64_t in, int kernel, int stride, int pad, bool ceil_mode);

// Square-window arguments; stride 0 means stride = kernel (PyTorch's stride=None).
Pool2dArgs pool2d_args(int kernel, int stride = 0, int padding = 0, bool ceil_mode = false,
                       bool count_include_pad = true);

// The output shape [N,C,P,Q] of `op` (a name for messages) pooling an input of shape x [N,C,H,W],
// after checking the arguments and that the input holds a window.
Shape pool2d_output_shape(const char* op, const Shape& x, const Pool2dArgs& args);

// x [N,C,H,W] -> [N,C,P,Q]. Padding may be at most half the kernel, as PyTorch requires.
Tensor max_pool2d(const Tensor& x, const Pool2dArgs& args);
Tensor avg_pool2d(const Tensor& x, const Pool2dArgs& args);
// x [N,C,H,W] -> [N,C,1,1], the mean over each plane.
Tensor global_avg_pool2d(const Tensor& x);

class MaxPool2d : public Module {
 public:
  MaxPool2d(int kernel, int stride = 0, int padding = 0, bool ceil_mode = false)
      : args(pool2d_args(kernel, stride, padding, ceil_mode)) {}
  Tensor forward(const Tensor& x) const { return max_pool2d(x, args); }
  Pool2dArgs args;
};

class AvgPool2d : public Module {
 public:
  AvgPool2d(int kernel, int stride = 0, int padding = 0, bool ceil_mode = false, bool count_include_pad = true)
      : args(pool2d_args(kernel, stride, padding, ceil_mode, count_include_pad)) {}
  Tensor forward(const Tensor& x) const { return avg_pool2d(x, args); }
  Pool2dArgs args;
};

}  // namespace gler::layers
