// layers/pool2d against torch.nn.functional in f32: outputs and input gradients within 1e-5
// relative, max-pooling indices exactly (PyTorch's return_indices), over the shapes the models
// use (DenseNet pool0 and transitions, MTCNN's ceil-mode pools, sphere-size inputs) and the edge
// cases of the output-size and divisor rules.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/autograd.h"
#include "core/init.h"
#include "layers/pool2d.h"
#include "tests/support/torch_ref.h"

using namespace gler;

namespace {

enum class Kind { max, avg, global };

struct PoolCase {
  const char* name;
  Kind kind;
  Shape x;
  Pool2dArgs args;
};

Pool2dArgs non_square() {
  Pool2dArgs a = layers::pool2d_args(3, 2, 1, true, false);
  a.kernel_w = 2;
  a.stride_w = 1;
  a.pad_w = 0;
  return a;
}

const std::vector<PoolCase>& cases() {
  using layers::pool2d_args;
  static const std::vector<PoolCase> list = {
      {"densenet_pool0", Kind::max, {2, 96, 32, 32}, pool2d_args(3, 2, 1)},
      {"mtcnn_pool_k3s2_ceil", Kind::max, {1, 28, 22, 22}, pool2d_args(3, 2, 0, true)},
      {"mtcnn_pool_k2s2_ceil_odd", Kind::max, {2, 10, 15, 13}, pool2d_args(2, 2, 0, true)},
      {"max_k3s2_ceil_overhang", Kind::max, {1, 4, 8, 10}, pool2d_args(3, 2, 0, true)},
      {"max_pad_half_ceil_last_dropped", Kind::max, {2, 3, 5, 7}, pool2d_args(2, 2, 1, true)},
      {"max_k5_pad2_s3", Kind::max, {1, 3, 11, 9}, pool2d_args(5, 3, 2)},
      {"max_non_square", Kind::max, {2, 3, 9, 8}, non_square()},
      {"densenet_transition_avg2", Kind::avg, {2, 192, 28, 28}, pool2d_args(2)},
      {"densenet_final_avg7", Kind::avg, {2, 16, 9, 8}, pool2d_args(7, 1)},
      {"avg_k3s2_pad1", Kind::avg, {1, 4, 11, 10}, pool2d_args(3, 2, 1)},
      {"avg_k3s2_pad1_exclude", Kind::avg, {1, 4, 11, 10}, pool2d_args(3, 2, 1, false, false)},
      {"avg_ceil_overhang", Kind::avg, {2, 3, 8, 9}, pool2d_args(3, 2, 0, true)},
      {"avg_ceil_pad1_include", Kind::avg, {2, 3, 6, 5}, pool2d_args(2, 2, 1, true)},
      {"avg_ceil_pad1_exclude", Kind::avg, {2, 3, 6, 5}, pool2d_args(2, 2, 1, true, false)},
      {"avg_ceil_pad2_k4s3_include", Kind::avg, {1, 2, 10, 8}, pool2d_args(4, 3, 2, true)},
      {"avg_non_square", Kind::avg, {2, 3, 9, 8}, non_square()},
      {"global_avg", Kind::global, {3, 20, 7, 5}, {}},
  };
  return list;
}

std::string torch_call(const PoolCase& c) {
  const Pool2dArgs& a = c.args;
  auto pair = [](int h, int w) {
    std::ostringstream os;
    os << '(' << h << ',' << w << ')';
    return os.str();
  };
  const std::string common = "x, " + pair(a.kernel_h, a.kernel_w) + ", stride=" + pair(a.stride_h, a.stride_w) +
                             ", padding=" + pair(a.pad_h, a.pad_w) + ", ceil_mode=" + (a.ceil_mode ? "True" : "False");
  switch (c.kind) {
    case Kind::max: return "F.max_pool2d(" + common + ", return_indices=True)";
    case Kind::avg: return "F.avg_pool2d(" + common + ", count_include_pad=" + (a.count_include_pad ? "True" : "False") + ")";
    case Kind::global: return "F.adaptive_avg_pool2d(x, 1)";
  }
  return "";
}

}  // namespace

TEST_CASE("pooling matches PyTorch in f32 (outputs, indices, input gradients)") {
  test::TorchRef ref;
  Generator gen(77);
  std::string script = "import torch.nn.functional as F\ncases = {}\n";
  std::vector<Tensor> ys, gxs;
  for (const PoolCase& c : cases()) {
    const std::string n = c.name;
    Tensor x = Tensor::empty(c.x);
    uniform_(x, -1, 1, gen);
    x.requires_grad_();
    ref.put(n + "_x", x);
    Tensor y = c.kind == Kind::max   ? layers::max_pool2d(x, c.args)
               : c.kind == Kind::avg ? layers::avg_pool2d(x, c.args)
                                     : layers::global_avg_pool2d(x);
    Tensor r = Tensor::empty(y.shape());
    uniform_(r, -1, 1, gen);
    ref.put(n + "_r", r);
    backward(y, r);
    ys.push_back(y);
    gxs.push_back(x.grad());
    script += "cases['" + n + "'] = lambda x: " + torch_call(c) + "\n";
  }
  script += R"PY(
for name, fn in cases.items():
    x = load(f'{name}_x').requires_grad_()
    out = fn(x)
    y = out[0] if isinstance(out, tuple) else out
    if isinstance(out, tuple):
        save(f'{name}_idx', out[1])
    y.backward(load(f'{name}_r'))
    save(f'{name}_y', y)
    save(f'{name}_gx', x.grad)
)PY";
  ref.run(script);
  for (std::size_t i = 0; i < cases().size(); ++i) {
    const PoolCase& c = cases()[i];
    const std::string n = c.name;
    CAPTURE(n);
    const Tensor ty = ref.get(n + "_y");
    REQUIRE(ys[i].shape() == ty.shape());
    CHECK(test::max_rel_diff(ys[i], ty) < 1e-5);
    CHECK(test::max_rel_diff(gxs[i], ref.get(n + "_gx")) < 1e-5);
    if (c.kind == Kind::max) {
      // The indices the backward scatters through: recompute them with the kernel directly.
      Tensor x = ref.get(n + "_x"), y = Tensor::empty(ty.shape()), idx = Tensor::empty(ty.shape(), DType::i64);
      x.backend().max_pool2d_forward(c.args, x, y, idx);
      CHECK(idx.to_vector<std::int64_t>() == ref.get(n + "_idx").to_vector<std::int64_t>());
    }
  }
}

// Inference asks the backend for maxima without indices, a separate (separable) CPU path: it must
// give PyTorch's values exactly on every max case, NaNs included (a NaN anywhere in a window wins).
TEST_CASE("max pooling without autograd (no indices) matches PyTorch exactly, NaN included") {
  test::TorchRef ref;
  Generator gen(78);
  std::string script = "import torch.nn.functional as F\ncases = {}\n";
  std::vector<std::pair<const PoolCase*, Tensor>> outs;
  for (const PoolCase& c : cases()) {
    if (c.kind != Kind::max) continue;
    const std::string n = c.name;
    Tensor x = Tensor::empty(c.x);
    uniform_(x, -1, 1, gen);
    std::vector<float> v = x.to_vector<float>();
    for (std::size_t i = 0; i < v.size(); i += 37) v[i] = std::numeric_limits<float>::quiet_NaN();
    x = Tensor::from_vector(v, c.x);
    ref.put(n + "_x", x);
    NoGradGuard no_grad;
    outs.emplace_back(&c, layers::max_pool2d(x, c.args));
    script += "cases['" + n + "'] = lambda x: " + torch_call(c) + "[0]\n";
  }
  script += "for name, fn in cases.items():\n    save(f'{name}_y', fn(load(f'{name}_x')))\n";
  ref.run(script);
  for (const auto& [c, y] : outs) {
    CAPTURE(c->name);
    const std::vector<float> ours = y.to_vector<float>(), theirs = ref.get(std::string(c->name) + "_y").to_vector<float>();
    REQUIRE(ours.size() == theirs.size());
    int differ = 0, nans = 0;
    for (std::size_t i = 0; i < ours.size(); ++i) {
      nans += std::isnan(theirs[i]);
      differ += std::isnan(theirs[i]) ? !std::isnan(ours[i]) : ours[i] != theirs[i];
    }
    CHECK(differ == 0);
    CHECK(nans > 0);
  }
}

TEST_CASE("pool2d output size follows PyTorch's ceil-mode rule") {
  using layers::pool2d_output_size;
  CHECK(pool2d_output_size(22, 3, 2, 0, true) == 11);   // MTCNN R-Net pool1
  CHECK(pool2d_output_size(9, 3, 2, 0, true) == 4);     // R-Net pool2
  CHECK(pool2d_output_size(112, 3, 2, 1, false) == 56); // DenseNet pool0
  CHECK(pool2d_output_size(5, 2, 2, 1, true) == 3);     // ceil gives 4; the 4th window would start in the padding
  CHECK(pool2d_output_size(5, 2, 2, 1, false) == 3);
  CHECK(pool2d_output_size(8, 3, 2, 0, false) == 3);
  CHECK(pool2d_output_size(8, 3, 2, 0, true) == 4);
}

TEST_CASE("pooling rejects padding over half the kernel and inputs smaller than the kernel") {
  const Tensor x = Tensor::zeros({1, 2, 6, 6});
  CHECK_THROWS_WITH_AS(layers::max_pool2d(x, layers::pool2d_args(3, 2, 2)),
                       doctest::Contains("must be between 0 and half the kernel"), Error);
  CHECK_THROWS_WITH_AS(layers::avg_pool2d(x, layers::pool2d_args(2, 2, 2)),
                       doctest::Contains("must be between 0 and half the kernel"), Error);
  CHECK_THROWS_WITH_AS(layers::max_pool2d(Tensor::zeros({1, 2, 2, 6}), layers::pool2d_args(3)),
                       doctest::Contains("[1, 2, 2, 6]"), Error);
  CHECK_THROWS_AS(layers::avg_pool2d(Tensor::zeros({2, 6, 6}), layers::pool2d_args(2)), Error);
}
