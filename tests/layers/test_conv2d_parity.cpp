// layers/conv2d against torch.nn.functional.conv2d in f32: output, input gradient, weight and
// bias gradients (upstream gradient: a fixed random tensor). The cases are the real DenseNet-161
// and sphere20a shapes (smaller spatial sizes) plus the kernel's edge cases.
//
// Tolerance: kFloor (2e-5) relative to the exact answer (PyTorch in f64 on the same f32 inputs). The long
// reductions of the real shapes (hundreds to thousands of products per value) put PyTorch's own
// f32 result up to ~1e-4 from the exact answer under max_rel_diff; there ours may be no further
// from it than kSlack times PyTorch's f32 error. Any indexing bug is off by orders more.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "core/autograd.h"
#include "core/init.h"
#include "layers/conv2d.h"
#include "tests/support/torch_ref.h"

using namespace gler;

namespace {

struct ConvCase {
  const char* name;
  Shape x, w;
  bool bias;
  Conv2dArgs args;
};

Conv2dArgs square(int stride, int pad, int dilation = 1, int groups = 1) {
  return {stride, stride, pad, pad, dilation, dilation, groups};
}

const std::vector<ConvCase>& cases() {
  static const std::vector<ConvCase> list = {
      {"densenet_conv0", {1, 3, 64, 64}, {96, 3, 7, 7}, false, square(2, 3)},
      {"densenet_1x1_192_from_240", {2, 240, 14, 14}, {192, 240, 1, 1}, false, square(1, 0)},
      {"densenet_1x1_batch1", {1, 144, 9, 11}, {192, 144, 1, 1}, false, square(1, 0)},
      {"densenet_3x3_48_from_192", {2, 192, 14, 14}, {48, 192, 3, 3}, false, square(1, 1)},
      {"densenet_transition_384_192", {3, 384, 8, 8}, {192, 384, 1, 1}, false, square(1, 0)},
      {"sphere_conv1_1", {3, 3, 96, 112}, {64, 3, 3, 3}, true, square(2, 1)},
      {"sphere_64_64", {1, 64, 24, 28}, {64, 64, 3, 3}, true, square(1, 1)},
      {"sphere_conv4_1", {2, 256, 12, 14}, {512, 256, 3, 3}, true, square(2, 1)},
      {"batch17_stride2_bias", {17, 3, 7, 6}, {4, 3, 3, 3}, true, square(2, 1)},  // batch-parallel path
      {"odd_stride2_no_pad", {2, 5, 13, 11}, {7, 5, 3, 3}, true, square(2, 0)},
      {"dilation2_pad2", {2, 6, 15, 12}, {8, 6, 3, 3}, true, square(1, 2, 2)},
      {"dilation3_stride2", {1, 4, 17, 16}, {5, 4, 3, 3}, false, square(2, 3, 3)},
      {"groups4", {2, 16, 9, 10}, {12, 4, 3, 3}, true, square(1, 1, 1, 4)},
      {"depthwise", {2, 32, 12, 13}, {32, 1, 3, 3}, true, square(1, 1, 1, 32)},
      {"depthwise_multiplier2_stride2", {1, 8, 11, 9}, {16, 1, 5, 5}, false, square(2, 2, 1, 8)},
      {"1x1_stride2", {2, 12, 9, 9}, {10, 12, 1, 1}, true, square(2, 0)},
      {"1x1_groups2_bias", {2, 12, 6, 7}, {10, 6, 1, 1}, true, square(1, 0, 1, 2)},
      {"non_square", {2, 4, 10, 9}, {6, 4, 3, 5}, true, {2, 1, 1, 2, 1, 1, 1}},
      {"kernel_covers_input", {2, 8, 5, 5}, {4, 8, 5, 5}, true, square(1, 0)},
  };
  return list;
}

std::string torch_args(const ConvCase& c) {
  const Conv2dArgs& a = c.args;
  return "stride=(" + std::to_string(a.stride_h) + "," + std::to_string(a.stride_w) + "), padding=(" +
         std::to_string(a.pad_h) + "," + std::to_string(a.pad_w) + "), dilation=(" + std::to_string(a.dilation_h) +
         "," + std::to_string(a.dilation_w) + "), groups=" + std::to_string(a.groups);
}

constexpr double kSlack = 3.0;
// The relative error's denominator is floored at 1% of the largest value, so an element at that
// floor shows the float32 rounding of its sums magnified up to 100x: 2e-5 is about two ulps of
// the largest value. Which kernel oneDNN runs (and so the rounding) depends on the CPU model.
constexpr double kFloor = 2e-5;

void check_parity(const Tensor& ours, const test::TorchRef& ref, const std::string& name) {
  const Tensor t32 = ref.get(name), t64 = ref.get(name + "64");
  REQUIRE(ours.shape() == t64.shape());
  const double torch_f32_error = test::max_rel_diff(t32, t64);
  const double vs_torch_f32 = test::max_rel_diff(ours, t32);
  CAPTURE(name);
  CAPTURE(torch_f32_error);
  CAPTURE(vs_torch_f32);
  CHECK(test::max_rel_diff(ours, t64) <= std::max(kFloor, kSlack * torch_f32_error));
}

}  // namespace

TEST_CASE("conv2d matches PyTorch in f32 (output, input, weight and bias gradients)") {
  test::TorchRef ref;
  Generator gen(2024);
  std::string script = "import torch.nn.functional as F\ncases = {}\n";
  struct Result {
    Tensor y, gx, gw, gb;
  };
  std::vector<Result> results;
  for (const ConvCase& c : cases()) {
    const std::string n = c.name;
    Tensor x = Tensor::empty(c.x), w = Tensor::empty(c.w), b;
    uniform_(x, -1, 1, gen);
    uniform_(w, -0.5, 0.5, gen);
    x.requires_grad_();
    w.requires_grad_();
    ref.put(n + "_x", x);
    ref.put(n + "_w", w);
    if (c.bias) {
      b = Tensor::empty({c.w[0]});
      uniform_(b, -1, 1, gen);
      b.requires_grad_();
      ref.put(n + "_b", b);
    }
    Tensor y = layers::conv2d(x, w, b, c.args);
    Tensor r = Tensor::empty(y.shape());
    uniform_(r, -1, 1, gen);
    ref.put(n + "_r", r);
    backward(y, r);
    results.push_back({y, x.grad(), w.grad(), c.bias ? b.grad() : Tensor()});
    script += "cases['" + n + "'] = (" + (c.bias ? "True" : "False") + ", dict(" + torch_args(c) + "))\n";
  }
  script += R"PY(
for name, (has_bias, kw) in cases.items():
    for suffix, dtype in (('', torch.float32), ('64', torch.float64)):
        x = load(f'{name}_x').to(dtype).requires_grad_()
        w = load(f'{name}_w').to(dtype).requires_grad_()
        b = load(f'{name}_b').to(dtype).requires_grad_() if has_bias else None
        y = F.conv2d(x, w, b, **kw)
        y.backward(load(f'{name}_r').to(dtype))
        save(f'{name}_y{suffix}', y)
        save(f'{name}_gx{suffix}', x.grad)
        save(f'{name}_gw{suffix}', w.grad)
        if has_bias:
            save(f'{name}_gb{suffix}', b.grad)
)PY";
  ref.run(script);
  for (std::size_t i = 0; i < cases().size(); ++i) {
    const std::string n = cases()[i].name;
    const Result& res = results[i];
    check_parity(res.y, ref, n + "_y");
    check_parity(res.gx, ref, n + "_gx");
    check_parity(res.gw, ref, n + "_gw");
    if (cases()[i].bias) check_parity(res.gb, ref, n + "_gb");
  }
}

TEST_CASE("Conv2d module: PyTorch names, shapes and default initialisation bounds") {
  Generator gen(5);
  layers::Conv2d conv(8, 6, 3, gen, {.stride = 2, .padding = 1, .groups = 2});
  const NamedTensors params = conv.named_parameters();
  REQUIRE(params.size() == 2);
  CHECK(params[0].first == "weight");
  CHECK(params[0].second.shape() == Shape{6, 4, 3, 3});
  CHECK(params[1].first == "bias");
  CHECK(params[1].second.shape() == Shape{6});
  // kaiming_uniform(a=√5) and the bias both draw from U(±1/√fan_in), fan_in = 4·3·3.
  const double bound = 1.0 / 6.0;
  for (const auto& [name, t] : params)
    for (float v : t.to_vector<float>()) CHECK(std::abs(v) <= bound);
  CHECK(conv.forward(Tensor::zeros({1, 8, 7, 5})).shape() == Shape{1, 6, 4, 3});
  layers::Conv2d no_bias(3, 4, 1, gen, {.bias = false});
  CHECK(no_bias.named_parameters().size() == 1);
}

TEST_CASE("conv2d rejects mismatched shapes, naming both") {
  const Tensor x = Tensor::zeros({1, 4, 5, 5});
  CHECK_THROWS_WITH_AS(layers::conv2d(x, Tensor::zeros({3, 3, 3, 3}), Tensor()),
                       doctest::Contains("[1, 4, 5, 5] does not match weight [3, 3, 3, 3]"), Error);
  CHECK_THROWS_WITH_AS(layers::conv2d(x, Tensor::zeros({3, 4, 3, 3}), Tensor::zeros({4})),
                       doctest::Contains("bias [4] does not match weight [3, 4, 3, 3]"), Error);
  CHECK_THROWS_WITH_AS(layers::conv2d(x, Tensor::zeros({3, 4, 7, 7}), Tensor()),
                       doctest::Contains("smaller than the dilated kernel"), Error);
  // A 6-wide (dilated) kernel on 5 pixels with stride 2: (5 - 5 - 1) / 2 + 1 truncates to one
  // output, so the output size alone would not catch it.
  CHECK_THROWS_AS(layers::conv2d(x, Tensor::zeros({3, 4, 6, 6}), Tensor(), {2, 2, 0, 0, 1, 1, 1}), Error);
  CHECK_THROWS_AS(layers::conv2d(x, Tensor::zeros({3, 4, 2, 2}), Tensor(), {2, 2, 0, 0, 5, 5, 1}), Error);
  CHECK_THROWS_AS(layers::conv2d(x, Tensor::zeros({3, 2, 3, 3}), Tensor(), {1, 1, 0, 0, 1, 1, 3}), Error);
}
