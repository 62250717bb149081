// layers/conv_prelu: the fused Conv2d → PReLU → MaxPool2d of inference against the same layers
// run one after another (bit for bit: the fused op promises their values) and against
// torch.nn.functional (the tolerance of test_conv2d_parity: within 1e-5 of PyTorch in f64, or
// three times PyTorch's own f32 error where its long sums make that larger). The cases cover each
// path of the CPU backend: oneDNN's blocked output with the fused epilogue (channel counts below,
// at and over one 16-lane block, odd sizes, ceil-mode partial windows, padded and non-square
// windows, no pooling), and the plain paths (a 1x1 convolution on plain formats, a convolution
// too small for oneDNN, f64); NaNs in the input included.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/init.h"
#include "core/ops.h"
#include "layers/conv_prelu.h"
#include "tests/support/tensors.h"
#include "tests/support/torch_ref.h"

using namespace gler;

namespace {

struct FusedCase {
  const char* name;
  Shape x;
  std::int64_t out_channels;
  int kernel, stride, padding;
  std::int64_t slopes;  // 1: shared, else out_channels
  std::optional<Pool2dArgs> pool;
  DType dtype = DType::f32;
  bool nans = false;
};

Pool2dArgs ceil_pool(int kernel) { return layers::pool2d_args(kernel, 2, 0, true); }

Pool2dArgs non_square_pool() {
  Pool2dArgs a = layers::pool2d_args(3, 2, 1, true);
  a.kernel_w = 2;
  a.stride_w = 1;
  a.pad_w = 0;
  return a;
}

const std::vector<FusedCase>& cases() {
  static const std::vector<FusedCase> list = {
      {"pnet_conv1_pool2_ceil_odd", {1, 3, 27, 32}, 10, 3, 1, 0, 10, ceil_pool(2)},
      {"rnet_conv1_pool3_ceil", {5, 3, 24, 24}, 28, 3, 1, 0, 28, ceil_pool(3)},
      {"rnet_conv2_pool3_ceil_nan", {4, 28, 11, 11}, 48, 3, 1, 0, 48, ceil_pool(3), DType::f32, true},
      {"onet_conv3_pool2_ceil", {3, 64, 10, 10}, 64, 3, 1, 0, 64, ceil_pool(2)},
      {"one_block_shared_slope", {2, 10, 18, 21}, 16, 3, 1, 0, 1, ceil_pool(3)},
      {"no_pool_two_blocks", {2, 16, 20, 23}, 32, 3, 1, 0, 32, std::nullopt},
      {"no_pool_part_block_nan", {1, 10, 19, 17}, 20, 3, 1, 0, 20, std::nullopt, DType::f32, true},
      {"stride2_pad1_pool_pad1", {2, 8, 17, 15}, 20, 3, 2, 1, 20, layers::pool2d_args(3, 2, 1)},
      {"non_square_pool", {2, 6, 16, 13}, 24, 3, 1, 1, 24, non_square_pool()},
      {"pool_window_is_whole_input", {3, 12, 6, 7}, 18, 3, 1, 0, 18, layers::pool2d_args(4, 2, 0, true)},
      {"1x1_plain_formats", {2, 32, 15, 17}, 24, 1, 1, 0, 24, ceil_pool(2)},
      {"too_small_for_onednn", {1, 3, 8, 8}, 4, 3, 1, 0, 4, ceil_pool(2)},
      {"f64", {2, 5, 12, 11}, 20, 3, 1, 0, 20, ceil_pool(3), DType::f64},
  };
  return list;
}

std::string torch_pool(const Pool2dArgs& a) {
  std::ostringstream os;
  os << "F.max_pool2d(y, (" << a.kernel_h << ", " << a.kernel_w << "), stride=(" << a.stride_h << ", " << a.stride_w
     << "), padding=(" << a.pad_h << ", " << a.pad_w << "), ceil_mode=" << (a.ceil_mode ? "True" : "False") << ")";
  return os.str();
}

// Equal bit for bit, except that any NaN equals any NaN.
bool same_values(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return false;
  const std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  for (std::size_t i = 0; i < x.size(); ++i)
    if (std::isnan(x[i]) ? !std::isnan(y[i]) : std::memcmp(&x[i], &y[i], sizeof(double)) != 0) return false;
  return true;
}

struct Net {
  Net(const FusedCase& c, Generator& gen)
      : conv(c.x[1], c.out_channels, c.kernel, gen, {c.stride, c.padding}), act(c.slopes) {
    uniform_(act.weight, -0.5, 0.5, gen);
    if (c.pool) pool.emplace(1).args = *c.pool;
    conv.to(c.dtype);
    act.to(c.dtype);
  }
  layers::Conv2d conv;
  layers::PReLU act;
  std::optional<layers::MaxPool2d> pool;
};

}  // namespace

TEST_CASE("conv2d_prelu in inference equals Conv2d, PReLU and MaxPool2d run in turn, and PyTorch") {
  test::TorchRef ref;
  Generator gen(41);
  std::string script = "import torch.nn.functional as F\ncases = {}\n";
  std::vector<Tensor> fused;
  for (const FusedCase& c : cases()) {
    CAPTURE(std::string(c.name));
    const std::string n = c.name;
    Net net(c, gen);
    Tensor x = test::uniform_tensor(c.x, gen);
    if (c.nans) {
      std::vector<float> v = x.to_vector<float>();
      for (std::size_t i = 0; i < v.size(); i += 211) v[i] = std::numeric_limits<float>::quiet_NaN();
      x = Tensor::from_vector(v, c.x);
    }
    x = x.to(c.dtype);
    NoGradGuard no_grad;
    const Tensor y = layers::conv2d_prelu(net.conv, net.act, net.pool ? &*net.pool : nullptr, x);
    const Tensor activated = net.act.forward(net.conv.forward(x));
    CHECK(same_values(y, net.pool ? net.pool->forward(activated) : activated));
    if (c.nans) CHECK(std::isnan(ops::sum_all(y).item()));
    fused.push_back(y);
    ref.put(n + "_x", x);
    ref.put(n + "_w", net.conv.weight);
    ref.put(n + "_b", net.conv.bias);
    ref.put(n + "_a", net.act.weight);
    script += "cases['" + n + "'] = lambda x, w, b, a: (lambda y: " + (c.pool ? torch_pool(*c.pool) : "y") +
              ")(F.prelu(F.conv2d(x, w, b, stride=" + std::to_string(c.stride) + ", padding=" +
              std::to_string(c.padding) + "), a))\n";
  }
  script += R"PY(
for name, fn in cases.items():
    args = [load(f'{name}_{k}') for k in 'xwba']
    save(f'{name}_y', fn(*[a.double() for a in args]))
    save(f'{name}_y32', fn(*args))
)PY";
  ref.run(script);
  for (std::size_t i = 0; i < cases().size(); ++i) {
    const FusedCase& c = cases()[i];
    CAPTURE(std::string(c.name));
    const Tensor exact = ref.get(std::string(c.name) + "_y"), torch = ref.get(std::string(c.name) + "_y32");
    REQUIRE(fused[i].shape() == exact.shape());
    // NaNs where PyTorch has them; the other values compared as test_conv2d_parity does.
    const std::vector<double> a = fused[i].to_vector<double>(), b = exact.to_vector<double>(),
                              t = torch.to_vector<double>();
    int nan_mismatch = 0;
    std::vector<double> ours_finite, exact_finite, torch_finite;
    for (std::size_t k = 0; k < a.size(); ++k) {
      nan_mismatch += std::isnan(a[k]) != std::isnan(b[k]);
      if (std::isnan(b[k])) continue;
      ours_finite.push_back(a[k]);
      exact_finite.push_back(b[k]);
      torch_finite.push_back(t[k]);
    }
    CHECK(nan_mismatch == 0);
    const Shape finite{static_cast<std::int64_t>(ours_finite.size())};
    const Tensor e = Tensor::from_vector(exact_finite, finite);
    const double torch_error = test::max_rel_diff(Tensor::from_vector(torch_finite, finite), e);
    CAPTURE(torch_error);
    CHECK(test::max_rel_diff(Tensor::from_vector(ours_finite, finite), e) <= std::max(1e-5, 3.0 * torch_error));
  }
}

TEST_CASE("conv2d_prelu records the unfused layers when a gradient is wanted") {
  Generator gen(42);
  const FusedCase& c = cases()[1];
  Net net(c, gen);
  Tensor x = test::uniform_tensor(c.x, gen).requires_grad_();
  const Tensor y = layers::conv2d_prelu(net.conv, net.act, &*net.pool, x);
  REQUIRE(y.requires_grad());
  backward(ops::sum_all(y));
  const Tensor gx = x.grad().clone(), gw = net.conv.weight.grad().clone(), ga = net.act.weight.grad().clone();
  for (const Tensor& t : {x, net.conv.weight, net.conv.bias, net.act.weight}) t.zero_grad();
  const Tensor unfused = net.pool->forward(net.act.forward(net.conv.forward(x)));
  CHECK(same_values(y.detach(), unfused.detach()));
  backward(ops::sum_all(unfused));
  CHECK(same_values(gx, x.grad()));
  CHECK(same_values(gw, net.conv.weight.grad()));
  CHECK(same_values(ga, net.act.weight.grad()));
}

TEST_CASE("conv2d_prelu checks its operands, in the layer and in the backend") {
  Generator gen(43);
  layers::Conv2d conv(3, 8, 3, gen);
  layers::PReLU wrong_slopes(5);
  const layers::MaxPool2d pool(2, 2, 0, true);
  const Tensor x = test::uniform_tensor({1, 3, 9, 9}, gen);
  NoGradGuard no_grad;
  test::expect_error_naming("slope count", {"prelu", "5", "8"},
                            [&] { layers::conv2d_prelu(conv, wrong_slopes, &pool, x); });
  test::expect_error_naming("input too small for the pool", {"max_pool2d", "kernel"}, [&] {
    layers::conv2d_prelu(conv, layers::PReLU(8), &pool, test::uniform_tensor({1, 3, 3, 3}, gen));
  });
  const Tensor slope = Tensor::full({8}, 0.25);
  Tensor wrong_y = Tensor::empty({1, 8, 7, 7});  // the pooled output is 4x4
  test::expect_error_naming("backend output shape", {"conv2d_prelu", "[1, 8, 4, 4]"}, [&] {
    x.backend().conv2d_prelu_forward(conv.args, x, conv.weight, &conv.bias, slope, &pool.args, wrong_y);
  });
  Tensor y = Tensor::empty({1, 8, 4, 4});
  const Tensor f64_slope = Tensor::full({8}, 0.25, DType::f64);
  test::expect_error_naming("backend slope dtype", {"conv2d_prelu", "f64"}, [&] {
    x.backend().conv2d_prelu_forward(conv.args, x, conv.weight, &conv.bias, f64_slope, &pool.args, y);
  });
}
