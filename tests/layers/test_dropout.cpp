// Dropout: identity in eval; in training every output is 0 or x/(1-p), the drop rate matches p,
// the mask is a function of the generator state only, and the gradient is the same mask.
#include <doctest/doctest.h>

#include <cmath>

#include "core/autograd.h"
#include "core/init.h"
#include "layers/dropout.h"

using namespace gler;

namespace {
Tensor ones(std::int64_t n, DType dtype = DType::f32) { return Tensor::full({n}, 1.0, dtype); }
}  // namespace

TEST_CASE("Dropout in eval and with p = 0 returns its input") {
  layers::Dropout drop(0.5);
  drop.eval();
  Generator gen(1);
  const Tensor x = ones(10);
  CHECK(drop.forward(x, gen).same(x));
  CHECK(layers::dropout(x, 0.0, true, gen).same(x));
}

TEST_CASE("Dropout in training keeps 1-p of the elements, scaled by 1/(1-p)") {
  const double p = 0.3;
  const std::int64_t n = 200000;
  Generator gen(7);
  const auto y = layers::dropout(ones(n), p, true, gen).to_vector<float>();
  std::int64_t dropped = 0;
  for (float v : y) {
    const bool zero = v == 0.0f;
    CHECK((zero || std::abs(v - static_cast<float>(1.0 / (1.0 - p))) < 1e-6f));
    dropped += zero;
  }
  // Binomial(n, p): 5 standard deviations.
  const double sd = std::sqrt(static_cast<double>(n) * p * (1 - p));
  CHECK(std::abs(static_cast<double>(dropped) - p * static_cast<double>(n)) < 5 * sd);
}

TEST_CASE("Dropout masks depend on the generator state only, in f32 and f64 alike") {
  Generator a(11), b(11);
  const auto first = layers::dropout(ones(1000), 0.5, true, a).to_vector<float>();
  const auto again = layers::dropout(ones(1000), 0.5, true, b).to_vector<double>();
  const auto second = layers::dropout(ones(1000), 0.5, true, a).to_vector<float>();
  std::int64_t same_as_again = 0, same_as_second = 0;
  for (std::size_t i = 0; i < first.size(); ++i) {
    same_as_again += first[i] == static_cast<float>(again[i]);
    same_as_second += first[i] == second[i];
  }
  CHECK(same_as_again == 1000);
  CHECK(same_as_second < 700);  // the generator advanced: a fresh mask (about half agree)
}

TEST_CASE("Dropout gradient is the scaled mask; p = 1 gives zeros; p outside [0, 1] throws") {
  Generator gen(3);
  Tensor x = Tensor::full({64}, 2.0).requires_grad_();
  const Tensor y = layers::dropout(x, 0.25, true, gen);
  backward(y, Tensor::full({64}, 1.0));
  const auto yv = y.to_vector<float>(), gv = x.grad().to_vector<float>();
  for (std::size_t i = 0; i < yv.size(); ++i) CHECK(gv[i] == yv[i] / 2.0f);
  const auto zeros = layers::dropout(ones(5), 1.0, true, gen).to_vector<float>();
  CHECK(zeros == std::vector<float>(5, 0.0f));
  CHECK_THROWS_WITH(layers::Dropout(1.5), doctest::Contains("1.5"));
  CHECK_THROWS(layers::dropout(ones(3), -0.1, true, gen));
}
