// Gradient checks of layers/pool2d: max and average pooling with stride, padding up to half
// the kernel, ceil_mode windows that overhang the input, count_include_pad both ways, and the
// global average. Inputs are random, so max pooling meets no ties.
#include "layers/pool2d.h"
#include "tests/gradcheck/gradcheck.h"

namespace gler::gradcheck {
namespace {

Result max_case(const Shape& x, const Pool2dArgs& a) {
  return check([a](const std::vector<Tensor>& in) { return layers::max_pool2d(in[0], a); }, {random_input(x, 1)});
}
Result avg_case(const Shape& x, const Pool2dArgs& a) {
  return check([a](const std::vector<Tensor>& in) { return layers::avg_pool2d(in[0], a); }, {random_input(x, 1)});
}

using layers::pool2d_args;

GLER_GRADCHECK("layers/max_pool2d 2x2") { return max_case({2, 3, 6, 4}, pool2d_args(2)); }
GLER_GRADCHECK("layers/max_pool2d 3x3 s2 pad1") { return max_case({1, 2, 9, 8}, pool2d_args(3, 2, 1)); }
GLER_GRADCHECK("layers/max_pool2d 3x3 s2 ceil overhang") { return max_case({2, 2, 8, 7}, pool2d_args(3, 2, 0, true)); }
GLER_GRADCHECK("layers/max_pool2d 2x2 pad1 ceil last window dropped") {
  return max_case({1, 2, 5, 5}, pool2d_args(2, 2, 1, true));
}
GLER_GRADCHECK("layers/max_pool2d 3x3 s1 overlapping") { return max_case({1, 2, 5, 6}, pool2d_args(3, 1)); }
GLER_GRADCHECK("layers/max_pool2d non-square") {
  Pool2dArgs a = pool2d_args(2, 2, 1, true);
  a.kernel_w = 3;
  a.stride_w = 1;
  return max_case({2, 1, 5, 6}, a);
}

GLER_GRADCHECK("layers/avg_pool2d 2x2") { return avg_case({2, 3, 6, 5}, pool2d_args(2)); }
GLER_GRADCHECK("layers/avg_pool2d 3x3 s2 pad1") { return avg_case({1, 2, 7, 8}, pool2d_args(3, 2, 1)); }
GLER_GRADCHECK("layers/avg_pool2d 3x3 s2 pad1 exclude pad") {
  return avg_case({1, 2, 7, 8}, pool2d_args(3, 2, 1, false, false));
}
GLER_GRADCHECK("layers/avg_pool2d ceil overhang") { return avg_case({2, 2, 8, 7}, pool2d_args(3, 2, 0, true)); }
GLER_GRADCHECK("layers/avg_pool2d ceil pad1 include pad") { return avg_case({1, 2, 6, 5}, pool2d_args(2, 2, 1, true)); }
GLER_GRADCHECK("layers/avg_pool2d ceil pad1 exclude pad") {
  return avg_case({1, 2, 6, 5}, pool2d_args(2, 2, 1, true, false));
}
GLER_GRADCHECK("layers/avg_pool2d 7x7 s1") { return avg_case({1, 2, 8, 9}, pool2d_args(7, 1)); }

GLER_GRADCHECK("layers/global_avg_pool2d") {
  return check([](const std::vector<Tensor>& in) { return layers::global_avg_pool2d(in[0]); },
               {random_input({2, 3, 5, 3}, 1)});
}

}  // namespace
}  // namespace gler::gradcheck
