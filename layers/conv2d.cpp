#include "layers/conv2d.h"

#include "core/autograd.h"

namespace gler::layers {

std::int64_t conv2d_output_size(std::int64_t in, std::int64_t kernel, int stride, int pad, int dilation) {
  return conv2d_output_extent(in, kernel, stride, pad, dilation);
}

namespace {

void check_conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dArgs& a) {
  GLER_CHECK(x.ndim() == 4 && w.ndim() == 4,
             "conv2d needs x [N,C,H,W] and weight [K,C/groups,R,S], got " << x.shape().str() << " and "
                                                                           << w.shape().str());
  GLER_CHECK(is_floating(x.dtype()), "conv2d needs a floating input, got " << describe(x));
  check_same_dtype(x, w, "conv2d");
  check_same_device(x, w, "conv2d");
  GLER_CHECK(a.stride_h > 0 && a.stride_w > 0 && a.dilation_h > 0 && a.dilation_w > 0 && a.pad_h >= 0 &&
                 a.pad_w >= 0 && a.groups > 0,
             "conv2d: stride " << a.stride_h << "x" << a.stride_w << ", dilation " << a.dilation_h << "x"
                               << a.dilation_w << ", padding " << a.pad_h << "x" << a.pad_w << ", groups "
                               << a.groups << " (stride, dilation, groups must be positive, padding >= 0)");
  GLER_CHECK(w.size(0) % a.groups == 0 && x.size(1) == w.size(1) * a.groups,
             "conv2d: input " << x.shape().str() << " does not match weight " << w.shape().str() << " with "
                              << a.groups << " groups (C = groups·weight[1], K divisible by groups)");
  if (b.defined()) {
    GLER_CHECK(b.ndim() == 1 && b.size(0) == w.size(0),
               "conv2d: bias " << b.shape().str() << " does not match weight " << w.shape().str());
    check_same_dtype(x, b, "conv2d bias");
    check_same_device(x, b, "conv2d bias");
  }
}

}  // namespace

Shape conv2d_output_shape(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dArgs& a) {
  check_conv2d(x, weight, bias, a);
  GLER_CHECK(x.size(2) + 2 * a.pad_h >= a.dilation_h * (weight.size(2) - 1) + 1 &&
                 x.size(3) + 2 * a.pad_w >= a.dilation_w * (weight.size(3) - 1) + 1,
             "conv2d: input " << x.shape().str() << " (padded by " << a.pad_h << "x" << a.pad_w
                              << ") is smaller than the dilated kernel of weight " << weight.shape().str());
  const std::int64_t P = conv2d_output_size(x.size(2), weight.size(2), a.stride_h, a.pad_h, a.dilation_h);
  const std::int64_t Q = conv2d_output_size(x.size(3), weight.size(3), a.stride_w, a.pad_w, a.dilation_w);
  return {x.size(0), weight.size(0), P, Q};
}

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dArgs& a) {
  Tensor y = Tensor::empty(conv2d_output_shape(x, weight, bias, a), x.dtype(), x.device());
  x.backend().conv2d_forward(a, x, weight, bias.defined() ? &bias : nullptr, y);

  std::vector<Tensor> inputs{x, weight};
  if (bias.defined()) inputs.push_back(bias);
  return record(y, "conv2d", inputs, [a, x = x.detach(), w = weight.detach(), need_x = x.requires_grad(),
                                      need_w = weight.requires_grad(), has_bias = bias.defined(),
                                      need_b = bias.requires_grad()](const Tensor& g) {
    std::vector<Tensor> grads(has_bias ? 3 : 2);
    if (need_x) {
      grads[0] = Tensor::empty(x.shape(), g.dtype(), g.device());
      g.backend().conv2d_backward_data(a, g, w, grads[0]);
    }
    if (need_w || need_b) {
      Tensor gw = Tensor::empty(w.shape(), g.dtype(), g.device());
      Tensor gb = need_b ? Tensor::empty({w.size(0)}, g.dtype(), g.device()) : Tensor();
      g.backend().conv2d_backward_filter(a, x, g, gw, need_b ? &gb : nullptr);
      if (need_w) grads[1] = gw;
      if (need_b) grads[2] = gb;
    }
    return grads;
  });
}

Conv2d::Conv2d(std::int64_t in_channels, std::int64_t out_channels, int kernel_size, Generator& gen,
               const Conv2dOptions& o) {
  GLER_CHECK(o.groups > 0 && in_channels % o.groups == 0 && out_channels % o.groups == 0,
             "Conv2d: " << in_channels << " input and " << out_channels << " output channels are not divisible by "
                        << o.groups << " groups");
  args = {o.stride, o.stride, o.padding, o.padding, o.dilation, o.dilation, o.groups};
  weight = register_parameter("weight", Tensor::empty({out_channels, in_channels / o.groups, kernel_size, kernel_size}));
  default_weight_init_(weight, gen);
  if (o.bias) {
    bias = register_parameter("bias", Tensor::empty({out_channels}));
    default_bias_init_(bias, fan_in(weight), gen);
  }
}

}  // namespace gler::layers
