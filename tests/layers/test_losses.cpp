// Unit tests of the losses: argument checks, module state (names, init, β annealing, the AngleLoss
// iteration counter), the seed-compatible and eval paths, and ψ against its closed form computed
// on the host with std::cos (f64).
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include "core/autograd.h"
#include "core/ops.h"
#include "layers/angle_softmax.h"
#include "layers/cross_entropy.h"
#include "layers/lsoftmax.h"

using namespace gler;

namespace {

Tensor uniform(const Shape& shape, double lo, double hi, std::uint64_t seed, DType dtype = DType::f64) {
  Generator gen(seed);
  Tensor t = Tensor::empty(shape, dtype);
  uniform_(t, lo, hi, gen);
  return t;
}

Tensor labels_of(const std::vector<std::int64_t>& v) {
  return Tensor::from_vector<std::int64_t>(v, {static_cast<std::int64_t>(v.size())});
}

bool bitwise_equal(const Tensor& a, const Tensor& b) { return a.to_vector<double>() == b.to_vector<double>(); }

// Samples at angle θ_i from their target column W[:, y_i] (f64), with norms 0.5, 0.75, ...
Tensor inputs_at_angles(const Tensor& w, const std::vector<std::int64_t>& y, const std::vector<double>& thetas) {
  const std::size_t in = static_cast<std::size_t>(w.size(0)), out = static_cast<std::size_t>(w.size(1));
  const std::vector<double> wv = w.to_vector<double>();
  std::vector<double> x;
  for (std::size_t i = 0; i < thetas.size(); ++i) {
    std::vector<double> c(in), u(in, 0.0);
    double cc = 0, uu = 0;
    for (std::size_t d = 0; d < in; ++d)
      cc += wv[d * out + static_cast<std::size_t>(y[i])] * wv[d * out + static_cast<std::size_t>(y[i])];
    for (std::size_t d = 0; d < in; ++d) c[d] = wv[d * out + static_cast<std::size_t>(y[i])] / std::sqrt(cc);
    u[i % in] = 1.0;
    for (std::size_t d = 0; d < in; ++d) u[d] -= c[i % in] * c[d];
    for (double v : u) uu += v * v;
    const double r = 0.5 + 0.25 * static_cast<double>(i);
    for (std::size_t d = 0; d < in; ++d)
      x.push_back(r * (std::cos(thetas[i]) * c[d] + std::sin(thetas[i]) * u[d] / std::sqrt(uu)));
  }
  return Tensor::from_vector<double>(x, {static_cast<std::int64_t>(thetas.size()), static_cast<std::int64_t>(in)});
}

double norm_of_column(const Tensor& w, std::int64_t j) {
  const std::vector<double> v = w.to_vector<double>();
  double s = 0;
  for (std::int64_t d = 0; d < w.size(0); ++d)
    s += v[static_cast<std::size_t>(d * w.size(1) + j)] * v[static_cast<std::size_t>(d * w.size(1) + j)];
  return std::sqrt(s);
}

double norm_of_row(const Tensor& x, std::int64_t i) {
  const std::vector<double> v = x.to_vector<double>();
  double s = 0;
  for (std::int64_t d = 0; d < x.size(1); ++d)
    s += v[static_cast<std::size_t>(i * x.size(1) + d)] * v[static_cast<std::size_t>(i * x.size(1) + d)];
  return std::sqrt(s);
}

// ψ(θ) = (−1)^k cos(mθ) − 2k, k = ⌊θ/(π/m)⌋ (`pi`: the π used for k).
double psi(double theta, int m, double pi = std::numbers::pi) {
  const double k = std::floor(m * theta / pi);
  return (std::fmod(k, 2.0) == 0 ? 1.0 : -1.0) * std::cos(m * theta) - 2 * k;
}

}  // namespace

TEST_CASE("cross_entropy checks its arguments") {
  const Tensor logits = uniform({3, 4}, -1, 1, 1);
  CHECK_THROWS_WITH_AS(layers::cross_entropy(logits, labels_of({0, 1})), doctest::Contains("[3, 4]"), Error);
  CHECK_THROWS_WITH_AS(layers::cross_entropy(logits, labels_of({0, 1})), doctest::Contains("[2]"), Error);
  CHECK_THROWS_AS(layers::cross_entropy(logits, uniform({3}, 0, 1, 2)), Error);
  CHECK_THROWS_WITH_AS(layers::cross_entropy(logits, labels_of({0, 4, 1})), doctest::Contains("out of range"), Error);
  CHECK_THROWS_AS(layers::cross_entropy(logits.reshape({12}), labels_of({0})), Error);
}

TEST_CASE("cross_entropy is the batch mean of -log softmax at the label") {
  const Tensor logits = uniform({4, 5}, -4, 4, 3);
  const std::vector<std::int64_t> y = {4, 0, 2, 2};
  const std::vector<double> v = logits.to_vector<double>();
  double expected = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    double s = 0;
    for (std::size_t j = 0; j < 5; ++j) s += std::exp(v[i * 5 + j]);
    expected += (std::log(s) - v[i * 5 + static_cast<std::size_t>(y[i])]) / 4;
  }
  CHECK(layers::cross_entropy(logits, labels_of(y)).item() == doctest::Approx(expected).epsilon(1e-12));
}

TEST_CASE("LSoftmaxLinear: PyTorch name and (in, out) layout, kaiming init of Wᵀ") {
  Generator gen(4);
  layers::LSoftmaxLinear fc(400, 300, gen);
  const NamedTensors params = fc.named_parameters();
  REQUIRE(params.size() == 1);
  CHECK(params[0].first == "weight");
  CHECK(params[0].second.shape() == Shape{400, 300});
  const std::vector<double> w = fc.weight.to_vector<double>();
  double ss = 0;
  for (double v : w) ss += v * v;
  CHECK(std::sqrt(ss / static_cast<double>(w.size())) == doctest::Approx(std::sqrt(2.0 / 400)).epsilon(0.02));
  CHECK_THROWS_AS(layers::LSoftmaxLinear(4, 3, gen, layers::LSoftmaxOptions{0}), Error);
}

TEST_CASE("LSoftmaxLinear is plain x·W in eval mode, without labels and when seed-compatible") {
  Generator gen(5);
  const Tensor x = uniform({6, 5}, -1, 1, 6, DType::f32);
  const Tensor y = labels_of({0, 1, 2, 3, 0, 1});
  layers::LSoftmaxLinear fc(5, 4, gen);
  const Tensor plain = ops::matmul(x, fc.weight);
  CHECK(bitwise_equal(fc.forward(x), plain));
  fc.eval();
  CHECK(bitwise_equal(fc.forward(x, y), plain));

  layers::LSoftmaxOptions opt;
  opt.seed_compatible = true;
  Generator gen2(5);
  layers::LSoftmaxLinear seed(5, 4, gen2, opt);
  CHECK(bitwise_equal(seed.weight, fc.weight));
  CHECK(seed.is_training());
  CHECK(bitwise_equal(seed.forward(x, y), plain));
}

TEST_CASE("LSoftmaxLinear training replaces only the target logits, by |W_y||x|ψ(θ) <= the plain ones") {
  const int margin = 4;
  const Tensor w = uniform({5, 3}, -1, 1, 7);
  std::vector<double> thetas;
  for (int i = 0; i < 12; ++i) thetas.push_back((i + 0.5) * std::numbers::pi / 12);
  std::vector<std::int64_t> y;
  for (int i = 0; i < 12; ++i) y.push_back(i % 3);
  const Tensor x = inputs_at_angles(w, y, thetas);
  const Tensor logits = layers::lsoftmax_logits(x, w, labels_of(y), margin, 0.0);
  const std::vector<double> got = logits.to_vector<double>(), plain = ops::matmul(x, w).to_vector<double>();
  for (std::size_t i = 0; i < 12; ++i) {
    CAPTURE(i);
    for (std::size_t j = 0; j < 3; ++j) {
      if (static_cast<std::int64_t>(j) != y[i]) {
        CHECK(got[i * 3 + j] == plain[i * 3 + j]);
        continue;
      }
      const double scale = norm_of_column(w, y[i]) * norm_of_row(x, static_cast<std::int64_t>(i));
      CHECK(got[i * 3 + j] == doctest::Approx(scale * psi(thetas[i], margin)).epsilon(1e-9));
      CHECK(got[i * 3 + j] <= plain[i * 3 + j] + 1e-12);
    }
  }
}

TEST_CASE("L-Softmax's ψ matches its closed form for every margin and is continuous across the k boundaries") {
  const Tensor w = uniform({4, 2}, -1, 1, 8);
  for (int m = 1; m <= 5; ++m) {
    CAPTURE(m);
    std::vector<double> thetas;
    for (int k = 1; k < m; ++k)
      for (double side : {-1e-9, 1e-9, -1e-3, 1e-3}) thetas.push_back(k * std::numbers::pi / m + side);
    thetas.push_back(0.01);
    thetas.push_back(std::numbers::pi - 0.01);
    std::vector<std::int64_t> y(thetas.size(), 1);
    const Tensor x = inputs_at_angles(w, y, thetas);
    const std::vector<double> got = layers::lsoftmax_logits(x, w, labels_of(y), m, 0.0).to_vector<double>();
    for (std::size_t i = 0; i < thetas.size(); ++i) {
      const double scale = norm_of_column(w, 1) * norm_of_row(x, static_cast<std::int64_t>(i));
      CHECK(got[i * 2 + 1] / scale == doctest::Approx(psi(thetas[i], m)).epsilon(1e-9));
    }
    for (int k = 1; k < m; ++k) {
      // Either side of kπ/m (k differs there), 2e-9 rad apart: ψ is continuous, so the values agree.
      const std::size_t i = static_cast<std::size_t>(4 * (k - 1));
      const double below = got[i * 2 + 1] / (norm_of_column(w, 1) * norm_of_row(x, static_cast<std::int64_t>(i)));
      const double above =
          got[(i + 1) * 2 + 1] / (norm_of_column(w, 1) * norm_of_row(x, static_cast<std::int64_t>(i + 1)));
      CHECK(std::abs(below - above) < 1e-7);
      CHECK(std::floor(m * thetas[i] / std::numbers::pi) == k - 1);
      CHECK(std::floor(m * thetas[i + 1] / std::numbers::pi) == k);
    }
  }
}

TEST_CASE("LSoftmaxLinear anneals β as the reference: used as max(β, β_min), then multiplied by the scale") {
  Generator gen(9);
  layers::LSoftmaxOptions opt;
  opt.beta = 1.0;
  opt.beta_scale = 0.5;
  opt.beta_min = 0.3;
  layers::LSoftmaxLinear fc(5, 4, gen, opt);
  fc.to(DType::f64);
  const Tensor x = uniform({6, 5}, -1, 1, 10);
  const Tensor y = labels_of({3, 1, 2, 0, 0, 1});
  CHECK(bitwise_equal(fc.forward(x, y), layers::lsoftmax_logits(x, fc.weight, y, 4, 1.0)));
  CHECK(fc.beta() == 0.5);
  CHECK(bitwise_equal(fc.forward(x, y), layers::lsoftmax_logits(x, fc.weight, y, 4, 0.5)));
  CHECK(fc.beta() == 0.25);
  CHECK(bitwise_equal(fc.forward(x, y), layers::lsoftmax_logits(x, fc.weight, y, 4, 0.3)));
  CHECK(fc.beta() == 0.125);
  fc.eval();
  fc.forward(x, y);
  CHECK(fc.beta() == 0.125);  // eval forwards do not anneal
  fc.set_beta(7.0);
  CHECK(fc.beta() == 7.0);
  // β blends the margin logit with the plain one: (ψ-logit + β·plain) / (1 + β).
  const std::vector<double> pure = layers::lsoftmax_logits(x, fc.weight, y, 4, 0.0).to_vector<double>();
  const std::vector<double> plain = ops::matmul(x, fc.weight).to_vector<double>();
  const std::vector<double> mixed = layers::lsoftmax_logits(x, fc.weight, y, 4, 3.0).to_vector<double>();
  for (std::size_t i = 0; i < mixed.size(); ++i)
    CHECK(mixed[i] == doctest::Approx((pure[i] + 3 * plain[i]) / 4).epsilon(1e-12));
}

TEST_CASE("lsoftmax_logits checks its arguments") {
  const Tensor x = uniform({3, 4}, -1, 1, 11), w = uniform({4, 2}, -1, 1, 12);
  CHECK_THROWS_WITH_AS(layers::lsoftmax_logits(x, uniform({5, 2}, -1, 1, 1), labels_of({0, 1, 1}), 4, 0),
                       doctest::Contains("[5, 2]"), Error);
  CHECK_THROWS_AS(layers::lsoftmax_logits(x, w, labels_of({0, 1}), 4, 0), Error);
  CHECK_THROWS_AS(layers::lsoftmax_logits(x, w, labels_of({0, 1, 2}), 4, 0), Error);
  CHECK_THROWS_AS(layers::lsoftmax_logits(x, w, labels_of({0, 1, 1}), 0, 0), Error);
}

TEST_CASE("AngleLinear: (in, out) weight with unit columns; outputs |x|cos θ and |x|ψ(θ) with the reference's π") {
  Generator gen(13);
  layers::AngleLinear fc(6, 4, gen);
  REQUIRE(fc.named_parameters().size() == 1);
  CHECK(fc.named_parameters()[0].first == "weight");
  CHECK(fc.weight.shape() == Shape{6, 4});
  for (std::int64_t j = 0; j < 4; ++j) CHECK(norm_of_column(fc.weight, j) == doctest::Approx(1.0).epsilon(1e-6));
  CHECK_THROWS_AS(layers::AngleLinear(6, 4, gen, 6), Error);

  const Tensor w = uniform({6, 4}, -1, 1, 14);
  for (int m = 1; m <= 5; ++m) {
    CAPTURE(m);
    std::vector<double> thetas;
    for (int i = 0; i < 9; ++i) thetas.push_back((i + 0.4) * std::numbers::pi / 9);
    std::vector<std::int64_t> y(thetas.size(), 2);
    const Tensor x = inputs_at_angles(w, y, thetas);
    // Columns are renormalised: scaling W changes nothing.
    const layers::AngleOutputs out = layers::angle_linear(x, ops::scale(w, 3.0), m);
    const std::vector<double> cos = out.cos_theta.to_vector<double>(), phi = out.phi_theta.to_vector<double>();
    for (std::size_t i = 0; i < thetas.size(); ++i) {
      const double len = norm_of_row(x, static_cast<std::int64_t>(i));
      CHECK(cos[i * 4 + 2] == doctest::Approx(len * std::cos(thetas[i])).epsilon(1e-9));
      CHECK(phi[i * 4 + 2] == doctest::Approx(len * psi(thetas[i], m, 3.14159265)).epsilon(1e-9));
    }
  }
}

TEST_CASE("AngleLoss: the iteration counter drives λ and is explicit state") {
  CHECK(layers::AngleLoss::lambda_at(1) == doctest::Approx(1500.0 / 1.1).epsilon(1e-15));
  CHECK(layers::AngleLoss::lambda_at(2990) == 5.0);
  CHECK(layers::AngleLoss::lambda_at(1000000) == 5.0);

  layers::AngleOutputs in{uniform({4, 3}, -1, 1, 15), uniform({4, 3}, -3, 1, 16)};
  const std::vector<std::int64_t> y = {2, 0, 1, 1};
  layers::AngleLoss crit;
  CHECK(crit.iteration() == 0);
  crit.forward(in, labels_of(y));
  CHECK(crit.iteration() == 1);
  for (std::int64_t it : {0, 9, 499, 100000}) {
    for (double gamma : {0.0, 2.0}) {
      CAPTURE(it);
      CAPTURE(gamma);
      layers::AngleLoss loss(gamma);
      loss.set_iteration(it);
      const double got = loss.forward(in, labels_of(y)).item();
      CHECK(loss.iteration() == it + 1);
      const double mix = 1.0 / (1.0 + layers::AngleLoss::lambda_at(it + 1));
      const std::vector<double> c = in.cos_theta.to_vector<double>(), p = in.phi_theta.to_vector<double>();
      double expected = 0;
      for (std::size_t i = 0; i < 4; ++i) {
        const std::size_t t = i * 3 + static_cast<std::size_t>(y[i]);
        double s = 0;
        for (std::size_t j = 0; j < 3; ++j)
          s += std::exp(i * 3 + j == t ? c[t] - c[t] * mix + p[t] * mix : c[i * 3 + j]);
        const double logp = c[t] - c[t] * mix + p[t] * mix - std::log(s);
        expected -= logp * std::pow(1 - std::exp(logp), gamma) / 4;
      }
      CHECK(got == doctest::Approx(expected).epsilon(1e-12));
    }
  }
  CHECK_THROWS_AS(crit.forward({in.cos_theta, uniform({4, 2}, -1, 1, 17)}, labels_of(y)), Error);
  CHECK_THROWS_AS(crit.forward(in, labels_of({0, 1})), Error);
}
