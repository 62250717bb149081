// Gradient checks of layers/conv2d: input, weight and bias, over the edge cases of the kernel
// (1x1 direct GEMM path, stride, padding, dilation, groups, depthwise, non-square, batch 1 and
// batch >= threads, which take the sequential and the batch-parallel paths).
#include "layers/conv2d.h"
#include "tests/gradcheck/gradcheck.h"

namespace gler::gradcheck {
namespace {

Conv2dArgs args(int stride, int pad, int dilation = 1, int groups = 1) {
  return {stride, stride, pad, pad, dilation, dilation, groups};
}

// x [N,C,H,W], weight [K,C/groups,R,S], bias [K] (or none).
Result conv_case(const Shape& x, const Shape& w, bool bias, const Conv2dArgs& a) {
  std::vector<Tensor> inputs{random_input(x, 1), random_input(w, 2)};
  if (bias) inputs.push_back(random_input({w[0]}, 3));
  return check(
      [a, bias](const std::vector<Tensor>& in) { return layers::conv2d(in[0], in[1], bias ? in[2] : Tensor(), a); },
      inputs);
}

GLER_GRADCHECK("layers/conv2d 3x3 pad1 bias") { return conv_case({2, 3, 5, 6}, {4, 3, 3, 3}, true, args(1, 1)); }
GLER_GRADCHECK("layers/conv2d batch1 odd stride2 pad1 bias") {
  return conv_case({1, 3, 7, 5}, {4, 3, 3, 3}, true, args(2, 1));
}
GLER_GRADCHECK("layers/conv2d batch3 stride2 no pad") { return conv_case({3, 2, 6, 7}, {3, 2, 3, 3}, false, args(2, 0)); }
// 17 samples take the batch-parallel path on machines with up to 17 threads.
GLER_GRADCHECK("layers/conv2d batch17 pad1 bias") { return conv_case({17, 2, 4, 3}, {2, 2, 2, 2}, true, args(1, 1)); }
GLER_GRADCHECK("layers/conv2d 7x7 stride2 pad3") { return conv_case({1, 2, 9, 8}, {3, 2, 7, 7}, false, args(2, 3)); }
GLER_GRADCHECK("layers/conv2d dilation2 pad2") { return conv_case({2, 2, 7, 6}, {3, 2, 3, 3}, true, args(1, 2, 2)); }
GLER_GRADCHECK("layers/conv2d dilation2 stride2") { return conv_case({1, 2, 9, 9}, {2, 2, 3, 2}, false, args(2, 1, 2)); }
GLER_GRADCHECK("layers/conv2d groups2") { return conv_case({2, 4, 5, 5}, {6, 2, 3, 3}, true, args(1, 1, 1, 2)); }
GLER_GRADCHECK("layers/conv2d depthwise") { return conv_case({2, 3, 6, 5}, {3, 1, 3, 3}, true, args(1, 1, 1, 3)); }
GLER_GRADCHECK("layers/conv2d depthwise multiplier2 stride2") {
  return conv_case({1, 3, 7, 7}, {6, 1, 3, 3}, false, args(2, 1, 1, 3));
}
GLER_GRADCHECK("layers/conv2d 1x1 direct") { return conv_case({2, 5, 4, 3}, {4, 5, 1, 1}, false, args(1, 0)); }
GLER_GRADCHECK("layers/conv2d 1x1 direct batch1 groups2 bias") {
  return conv_case({1, 4, 3, 5}, {6, 2, 1, 1}, true, args(1, 0, 1, 2));
}
GLER_GRADCHECK("layers/conv2d 1x1 stride2") { return conv_case({2, 3, 5, 5}, {4, 3, 1, 1}, true, args(2, 0)); }
GLER_GRADCHECK("layers/conv2d 1x1 pad1") { return conv_case({1, 2, 3, 4}, {3, 2, 1, 1}, false, args(1, 1)); }
GLER_GRADCHECK("layers/conv2d kernel covers input") { return conv_case({2, 2, 3, 3}, {3, 2, 3, 3}, true, args(1, 0)); }
GLER_GRADCHECK("layers/conv2d non-square kernel stride pad") {
  const Conv2dArgs a{2, 1, 1, 0, 1, 2, 1};
  return conv_case({2, 2, 6, 7}, {3, 2, 3, 2}, true, a);
}

GLER_GRADCHECK("layers/Conv2d module") {
  Generator gen(7);
  auto conv = std::make_shared<layers::Conv2d>(3, 4, 3, gen, layers::Conv2dOptions{.stride = 2, .padding = 1});
  conv->to(DType::f64);
  return check([conv](const std::vector<Tensor>& in) { return conv->forward(in[0]); },
               {random_input({2, 3, 6, 5}, 1), conv->weight, conv->bias});
}

}  // namespace
}  // namespace gler::gradcheck
