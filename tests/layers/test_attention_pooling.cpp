// Attention pooling edge cases: exact zeros (never NaN) for samples without faces, in forward and
// backward, even when every sample is empty; one face slot; counts out of range.
#include <doctest/doctest.h>

#include <cmath>

#include "core/autograd.h"
#include "core/init.h"
#include "core/ops.h"
#include "layers/attention_pooling.h"
#include "tests/support/tensors.h"

using namespace gler;

namespace {
Tensor random(const Shape& s, std::uint64_t seed) { return test::uniform_tensor(s, seed, -2, 2).requires_grad_(); }
bool all_finite(const Tensor& t) {
  for (double v : t.to_vector<double>())
    if (!std::isfinite(v)) return false;
  return true;
}
}  // namespace

TEST_CASE("Samples without faces get zero weights, a zero pooled vector and zero gradients") {
  for (const std::vector<std::int64_t>& c : {std::vector<std::int64_t>{0, 3, 0}, std::vector<std::int64_t>{0, 0, 0}}) {
    const Tensor counts = Tensor::from_vector<std::int64_t>(c, {3});
    Tensor scores = random({3, 3}, 1), features = random({3, 3, 4}, 2);
    const layers::AttentionPooled out = layers::attention_pooling(scores, counts, features, false);
    backward(ops::add(ops::sum_all(out.weights), ops::sum_all(ops::mul(out.pooled, out.pooled))));
    const auto w = out.weights.to_vector<float>(), p = out.pooled.to_vector<float>();
    const auto gs = scores.grad().to_vector<float>(), gf = features.grad().to_vector<float>();
    CHECK(all_finite(out.weights));
    CHECK(all_finite(scores.grad()));
    CHECK(all_finite(features.grad()));
    for (std::size_t b = 0; b < 3; ++b) {
      if (c[b] != 0) continue;
      for (std::size_t j = 0; j < 3; ++j) CHECK(w[b * 3 + j] == 0.0f);
      for (std::size_t j = 0; j < 3; ++j) CHECK(gs[b * 3 + j] == 0.0f);
      for (std::size_t j = 0; j < 4; ++j) CHECK(p[b * 4 + j] == 0.0f);
      for (std::size_t j = 0; j < 12; ++j) CHECK(gf[b * 12 + j] == 0.0f);
    }
  }
}

TEST_CASE("Weights of present faces sum to one; absent slots are exactly zero; one slot") {
  const Tensor counts = Tensor::from_vector<std::int64_t>({2, 1}, {2});
  const auto w = layers::masked_softmax(random({2, 4}, 3), counts).to_vector<float>();
  CHECK(std::abs(w[0] + w[1] - 1.0f) < 1e-6f);
  CHECK(w[2] == 0.0f);
  CHECK(w[3] == 0.0f);
  CHECK(w[4] == 1.0f);
  const Tensor one = Tensor::from_vector<std::int64_t>({1}, {1});
  const layers::AttentionPooled out = layers::attention_pooling(random({1, 1}, 4), one, random({1, 1, 3}, 5), true);
  CHECK(out.weights.to_vector<float>() == std::vector<float>{1.0f});
}

TEST_CASE("Face counts outside [0, F] and mismatched shapes are errors") {
  CHECK_THROWS_WITH(layers::masked_softmax(random({2, 3}, 1), Tensor::from_vector<std::int64_t>({4, 1}, {2})),
                    doctest::Contains("face count 4"));
  CHECK_THROWS(layers::masked_softmax(random({2, 3}, 1), Tensor::from_vector<std::int64_t>({-1, 1}, {2})));
  CHECK_THROWS_WITH(layers::attention_pooling(random({2, 3}, 1), Tensor::from_vector<std::int64_t>({1, 1}, {2}),
                                              random({2, 4, 5}, 2), false),
                    doctest::Contains("[2, 4, 5]"));
}
