#include "layers/pool2d.h"

#include "core/autograd.h"
#include "core/ops.h"

namespace gler::layers {

std::int64_t pool2d_output_size(std::int64_t in, int kernel, int stride, int pad, bool ceil_mode) {
  return pool2d_output_extent(in, kernel, stride, pad, ceil_mode);
}

Pool2dArgs pool2d_args(int kernel, int stride, int padding, bool ceil_mode, bool count_include_pad) {
  Pool2dArgs a;
  a.kernel_h = a.kernel_w = kernel;
  a.stride_h = a.stride_w = stride == 0 ? kernel : stride;
  a.pad_h = a.pad_w = padding;
  a.ceil_mode = ceil_mode;
  a.count_include_pad = count_include_pad;
  return a;
}

Shape pool2d_output_shape(const char* op, const Shape& x, const Pool2dArgs& a) {
  GLER_CHECK(x.size() == 4, op << " needs x [N,C,H,W], got " << x.str());
  GLER_CHECK(a.kernel_h > 0 && a.kernel_w > 0 && a.stride_h > 0 && a.stride_w > 0,
             op << ": kernel " << a.kernel_h << "x" << a.kernel_w << " and stride " << a.stride_h << "x"
                << a.stride_w << " must be positive");
  GLER_CHECK(a.pad_h >= 0 && a.pad_w >= 0 && a.pad_h <= a.kernel_h / 2 && a.pad_w <= a.kernel_w / 2,
             op << ": padding " << a.pad_h << "x" << a.pad_w << " must be between 0 and half the kernel "
                << a.kernel_h << "x" << a.kernel_w);
  const std::int64_t P = pool2d_output_size(x[2], a.kernel_h, a.stride_h, a.pad_h, a.ceil_mode);
  const std::int64_t Q = pool2d_output_size(x[3], a.kernel_w, a.stride_w, a.pad_w, a.ceil_mode);
  GLER_CHECK(x[2] + 2 * a.pad_h >= a.kernel_h && x[3] + 2 * a.pad_w >= a.kernel_w && P > 0 && Q > 0,
             op << ": input " << x.str() << " (padded by " << a.pad_h << "x" << a.pad_w
                << ") is smaller than the kernel " << a.kernel_h << "x" << a.kernel_w);
  return {x[0], x[1], P, Q};
}

namespace {

Shape pooled_shape(const char* op, const Tensor& x, const Pool2dArgs& a) {
  GLER_CHECK(is_floating(x.dtype()), op << " needs a floating input, got " << describe(x));
  return pool2d_output_shape(op, x.shape(), a);
}

}  // namespace

Tensor max_pool2d(const Tensor& x, const Pool2dArgs& a) {
  const Shape out = pooled_shape("max_pool2d", x, a);
  Tensor y = Tensor::empty(out, x.dtype(), x.device());
  // Argmax indices only when a backward can follow.
  Tensor indices = grad_enabled() && x.requires_grad() ? Tensor::empty(out, DType::i64, x.device()) : Tensor();
  x.backend().max_pool2d_forward(a, x, y, indices);
  if (!indices.defined()) return y;
  return record(y, "max_pool2d", {x}, [a, indices, xs = x.shape()](const Tensor& g) {
    Tensor gx = Tensor::empty(xs, g.dtype(), g.device());
    g.backend().max_pool2d_backward(a, g, indices, gx);
    return std::vector<Tensor>{gx};
  });
}

Tensor avg_pool2d(const Tensor& x, const Pool2dArgs& a) {
  Tensor y = Tensor::empty(pooled_shape("avg_pool2d", x, a), x.dtype(), x.device());
  x.backend().avg_pool2d_forward(a, x, y);
  return record(y, "avg_pool2d", {x}, [a, xs = x.shape()](const Tensor& g) {
    Tensor gx = Tensor::empty(xs, g.dtype(), g.device());
    g.backend().avg_pool2d_backward(a, g, gx);
    return std::vector<Tensor>{gx};
  });
}

Tensor global_avg_pool2d(const Tensor& x) {
  GLER_CHECK(x.ndim() == 4, "global_avg_pool2d needs x [N,C,H,W], got " << x.shape().str());
  const Tensor planes = x.reshape({x.size(0), x.size(1), x.size(2) * x.size(3)});
  return ops::mean(planes, 2).reshape({x.size(0), x.size(1), 1, 1});
}

}  // namespace gler::layers
