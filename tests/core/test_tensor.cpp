// Tensor, autograd, RNG and Module basics.
#include <doctest/doctest.h>

#include <string>

#include "core/autograd.h"
#include "core/error.h"
#include "core/init.h"
#include "core/module.h"
#include "core/ops.h"
#include "core/rng.h"
#include "layers/linear.h"

using namespace gler;

TEST_CASE("tensor shapes, views and copies") {
  Tensor t = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(t.shape() == Shape{2, 3});
  CHECK(t.numel() == 6);
  CHECK(t.size(-1) == 3);
  Tensor r = t.reshape({3, 2});
  CHECK(r.raw() == t.raw());  // a view
  Tensor s = t.slice(1, 2);
  CHECK(s.to_vector<float>() == std::vector<float>{4, 5, 6});
  Tensor c = t.clone();
  c.fill_(0);
  CHECK(t.to_vector<float>()[0] == 1);
  CHECK(t.to(DType::f64).to_vector<double>() == std::vector<double>{1, 2, 3, 4, 5, 6});
  CHECK(t.to(DType::i64).dtype() == DType::i64);
  CHECK(Tensor::scalar(2.5).item() == 2.5);
}

TEST_CASE("shape errors name both shapes") {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({4, 3});
  CHECK_THROWS_WITH_AS(ops::add(a, b), doctest::Contains("[2, 3]"), Error);
  CHECK_THROWS_WITH_AS(ops::add(a, b), doctest::Contains("[4, 3]"), Error);
  CHECK_THROWS_WITH_AS(ops::matmul(a, b), doctest::Contains("[4, 3]"), Error);
  CHECK_THROWS_AS(a.reshape({7}), Error);
  CHECK_THROWS_AS(a.slice(1, 3), Error);
  CHECK_THROWS_AS(Shape({1, 2, 3, 4, 5, 6, 7}), Error);
  CHECK_THROWS_WITH_AS(ops::add(a, Tensor::zeros({2, 3}, DType::f64)), doctest::Contains("dtype"), Error);
  CHECK_THROWS_AS(ops::gather(a, Tensor::from_vector<std::int64_t>({0, 3}, {2}), 1), Error);
}

TEST_CASE("backward accumulates into leaves and respects no-grad") {
  Tensor x = Tensor::from_vector<double>({1, 2, 3}, {3});
  x.requires_grad_();
  Tensor y = ops::sum_all(ops::mul(x, x));
  backward(y);
  CHECK(x.grad().to_vector<double>() == std::vector<double>{2, 4, 6});
  backward(ops::sum_all(ops::mul(x, x)));  // accumulates
  CHECK(x.grad().to_vector<double>() == std::vector<double>{4, 8, 12});
  x.zero_grad();
  CHECK_FALSE(x.grad().defined());
  {
    NoGradGuard ng;
    CHECK_FALSE(ops::mul(x, x).requires_grad());
  }
  CHECK(ops::mul(x, x).requires_grad());
  // A tensor used twice gets both contributions; a retained non-leaf keeps its gradient.
  Tensor h = ops::scale(x, 3.0);
  h.retain_grad();
  backward(ops::sum_all(ops::add(h, h)));
  CHECK(h.grad().to_vector<double>() == std::vector<double>{2, 2, 2});
  CHECK(x.grad().to_vector<double>() == std::vector<double>{6, 6, 6});
}

TEST_CASE("in-place writes bump a version shared by views; backward refuses stale saved tensors") {
  Tensor x = Tensor::from_vector<double>({1, 2, 3}, {3});
  const std::uint64_t v0 = x.version();
  x.fill_(2.0);
  CHECK(x.version() == v0 + 1);
  Tensor view = x.reshape({1, 3});
  view.copy_(Tensor::from_vector<double>({1, 2, 3}, {1, 3}));
  CHECK(x.version() == v0 + 2);  // a view writes the same storage

  x.requires_grad_();
  Tensor w = Tensor::from_vector<double>({4, 5, 6}, {3});
  w.requires_grad_();
  {
    Tensor loss = ops::sum_all(ops::mul(x, w));  // mul's backward reads both inputs
    w.detach().fill_(0.0);
    std::string message;
    try {
      backward(loss);
    } catch (const Error& e) {
      message = e.what();
    }
    CHECK_MESSAGE(message.find("modified in place") != std::string::npos, message);
    CHECK_MESSAGE(message.find("input 1 of mul") != std::string::npos, message);
  }
  {
    Tensor y = ops::exp(x);  // exp's backward reads its output
    y.detach().fill_(1.0);
    CHECK_THROWS_WITH_AS(backward(y, Tensor::full({3}, 1.0, DType::f64)), doctest::Contains("the output of exp"), Error);
  }
  {
    Tensor loss = ops::sum_all(ops::mul(x, w));  // untouched: runs, and an earlier failure left no state
    backward(loss);
    CHECK(x.grad().to_vector<double>() == std::vector<double>{0, 0, 0});
  }
}

TEST_CASE("Philox streams are counter-based and reproducible") {
  // Known-answer test from the Random123 distribution (philox4x32_10, counter 0, key 0).
  const auto r = rng::philox(0, 0);
  CHECK(r.v[0] == 0x6627e8d5u);
  CHECK(r.v[1] == 0xe169c58du);
  CHECK(r.v[2] == 0xbc57ac4cu);
  CHECK(r.v[3] == 0x9b00dbd8u);
  Generator g1(42), g2(42);
  Tensor a = Tensor::empty({1000}), b = Tensor::empty({1000});
  normal_(a, 0, 1, g1);
  normal_(b, 0, 1, g2);
  CHECK(a.to_vector<float>() == b.to_vector<float>());
  // The generator advances: a second draw differs.
  normal_(b, 0, 1, g2);
  CHECK(a.to_vector<float>() != b.to_vector<float>());
  double mean = 0, var = 0;
  Tensor big = Tensor::empty({200000}, DType::f64);
  Generator g3(7);
  normal_(big, 0, 1, g3);
  for (double v : big.to_vector<double>()) mean += v;
  mean /= 200000;
  for (double v : big.to_vector<double>()) var += (v - mean) * (v - mean);
  var /= 200000;
  CHECK(std::abs(mean) < 0.01);
  CHECK(std::abs(var - 1) < 0.01);
}

TEST_CASE("kaiming_normal has PyTorch's standard deviation") {
  Tensor w = Tensor::empty({256, 512}, DType::f64);
  Generator g(1);
  kaiming_normal_(w, g);
  double s = 0;
  for (double v : w.to_vector<double>()) s += v * v;
  const double std = std::sqrt(s / static_cast<double>(w.numel()));
  CHECK(std == doctest::Approx(std::sqrt(2.0 / 512)).epsilon(0.01));
}

namespace {
struct Block : Module {
  Generator gen{0};
  layers::Linear fc1{3, 4, true, gen}, fc2{4, 2, false, gen};
  Tensor running = register_buffer("running_mean", Tensor::zeros({2}));
  Block() {
    register_module("fc1", fc1);
    register_module("fc2", fc2);
  }
};
}  // namespace

TEST_CASE("module state dict uses PyTorch names and order") {
  Block b;
  auto sd = b.state_dict();
  REQUIRE(sd.size() == 4);
  CHECK(sd[0].first == "running_mean");
  CHECK(sd[1].first == "fc1.weight");
  CHECK(sd[2].first == "fc1.bias");
  CHECK(sd[3].first == "fc2.weight");
  CHECK(b.parameters().size() == 3);
  b.eval();
  CHECK_FALSE(b.fc1.is_training());
  NamedTensors bad = {{"fc1.weight", Tensor::zeros({4, 4})}, {"extra", Tensor::zeros({1})}};
  CHECK_THROWS_WITH_AS(b.load_state_dict(bad), doctest::Contains("missing fc2.weight"), Error);
  CHECK_THROWS_WITH_AS(b.load_state_dict(bad), doctest::Contains("unexpected extra"), Error);
  CHECK_THROWS_WITH_AS(b.load_state_dict(bad), doctest::Contains("[4, 4]"), Error);
  NamedTensors good;
  for (auto& [n, t] : sd) good.emplace_back(n, Tensor::full(t.shape(), 0.5));
  b.load_state_dict(good);
  CHECK(b.fc2.weight.to_vector<float>()[0] == 0.5f);
  b.to(DType::f64);
  CHECK(b.fc1.weight.dtype() == DType::f64);  // handles held by the layer see the conversion
  CHECK(b.fc1.weight.requires_grad());
}
