// Gradient checks of the losses: cross-entropy, L-Softmax (including θ right at the k boundaries
// of ψ, the seed-compatible and eval paths) and SphereFace's AngleLinear/AngleLoss.
#include <cmath>
#include <memory>
#include <numbers>

#include "core/ops.h"
#include "layers/angle_softmax.h"
#include "layers/cross_entropy.h"
#include "layers/lsoftmax.h"
#include "tests/gradcheck/gradcheck.h"

namespace gler::gradcheck {
namespace {

using Inputs = const std::vector<Tensor>&;

Tensor labels_of(const std::vector<std::int64_t>& v) {
  return Tensor::from_vector<std::int64_t>(v, {static_cast<std::int64_t>(v.size())});
}

// Samples x_i at angle θ_i from their target column W[:, y_i], with norms 0.5, 0.75, ...: x_i lies
// in the plane of that column and a coordinate axis made orthogonal to it.
Tensor inputs_at_angles(const Tensor& w, const std::vector<std::int64_t>& labels, const std::vector<double>& thetas) {
  const std::int64_t in = w.size(0), out = w.size(1);
  const std::vector<double> wv = w.to_vector<double>();
  std::vector<double> x;
  for (std::size_t i = 0; i < thetas.size(); ++i) {
    std::vector<double> c(static_cast<std::size_t>(in)), u(static_cast<std::size_t>(in), 0.0);
    double cn = 0;
    for (std::int64_t d = 0; d < in; ++d) {
      c[static_cast<std::size_t>(d)] = wv[static_cast<std::size_t>(d * out + labels[i])];
      cn += c[static_cast<std::size_t>(d)] * c[static_cast<std::size_t>(d)];
    }
    cn = std::sqrt(cn);
    for (double& v : c) v /= cn;
    u[i % static_cast<std::size_t>(in)] = 1.0;
    const double along = c[i % static_cast<std::size_t>(in)];
    double un = 0;
    for (std::size_t d = 0; d < u.size(); ++d) {
      u[d] -= along * c[d];
      un += u[d] * u[d];
    }
    un = std::sqrt(un);
    const double r = 0.5 + 0.25 * static_cast<double>(i);
    for (std::size_t d = 0; d < u.size(); ++d)
      x.push_back(r * (std::cos(thetas[i]) * c[d] + std::sin(thetas[i]) * u[d] / un));
  }
  Tensor t = Tensor::from_vector<double>(x, {static_cast<std::int64_t>(thetas.size()), in});
  t.requires_grad_(true);
  return t;
}

GLER_GRADCHECK("losses/cross_entropy") {
  const Tensor labels = labels_of({3, 0, 1, 3, 2});
  return check([labels](Inputs in) { return layers::cross_entropy(in[0], labels); }, {random_input({5, 4}, 1, -3, 3)});
}

Result lsoftmax_case(int margin, double beta) {
  const Tensor labels = labels_of({0, 3, 1, 2, 3, 0, 2});
  return check(
      [labels, margin, beta](Inputs in) { return layers::lsoftmax_logits(in[0], in[1], labels, margin, beta); },
      {random_input({7, 5}, 1), random_input({5, 4}, 2)});
}
GLER_GRADCHECK("losses/lsoftmax m1") { return lsoftmax_case(1, 0.0); }
GLER_GRADCHECK("losses/lsoftmax m2") { return lsoftmax_case(2, 0.0); }
GLER_GRADCHECK("losses/lsoftmax m3") { return lsoftmax_case(3, 0.0); }
GLER_GRADCHECK("losses/lsoftmax m4") { return lsoftmax_case(4, 0.0); }
GLER_GRADCHECK("losses/lsoftmax m4 beta 5") { return lsoftmax_case(4, 5.0); }

GLER_GRADCHECK("losses/lsoftmax m4 into cross_entropy") {
  const Tensor labels = labels_of({1, 0, 2, 2, 1});
  return check(
      [labels](Inputs in) {
        return layers::cross_entropy(layers::lsoftmax_logits(in[0], in[1], labels, 4, 0.0), labels);
      },
      {random_input({5, 6}, 1), random_input({6, 3}, 2)});
}

// θ within `offset` of every interior boundary kπ/m, on both sides, and next to 0 and π.
Result lsoftmax_boundary_case(int margin, double offset) {
  std::vector<double> thetas = {offset, std::numbers::pi - offset};
  for (int k = 1; k < margin; ++k) {
    thetas.push_back(k * std::numbers::pi / margin - offset);
    thetas.push_back(k * std::numbers::pi / margin + offset);
  }
  std::vector<std::int64_t> y;
  for (std::size_t i = 0; i < thetas.size(); ++i) y.push_back(static_cast<std::int64_t>(i % 3));
  const Tensor labels = labels_of(y), w = random_input({4, 3}, 5);
  return check([labels, margin](Inputs in) { return layers::lsoftmax_logits(in[0], in[1], labels, margin, 0.0); },
               {inputs_at_angles(w, y, thetas), w});
}
GLER_GRADCHECK("losses/lsoftmax m4 theta 1e-3 from k boundaries") { return lsoftmax_boundary_case(4, 1e-3); }
GLER_GRADCHECK("losses/lsoftmax m3 theta 1e-3 from k boundaries") { return lsoftmax_boundary_case(3, 1e-3); }
// Closer than the finite-difference step moves θ: the check straddles the boundary, which works
// because ψ is continuously differentiable there.
GLER_GRADCHECK("losses/lsoftmax m4 theta 1e-8 from k boundaries") { return lsoftmax_boundary_case(4, 1e-8); }

Result lsoftmax_module_case(bool seed_compatible, bool training) {
  Generator gen(7);
  layers::LSoftmaxOptions opt;
  opt.seed_compatible = seed_compatible;
  auto fc = std::make_shared<layers::LSoftmaxLinear>(5, 3, gen, opt);
  fc->to(DType::f64);
  fc->train(training);
  const Tensor labels = labels_of({2, 0, 1, 1});
  return check([fc, labels](Inputs in) { return fc->forward(in[0], labels); }, {random_input({4, 5}, 1), fc->weight});
}
GLER_GRADCHECK("losses/LSoftmaxLinear seed_compatible training") { return lsoftmax_module_case(true, true); }
GLER_GRADCHECK("losses/LSoftmaxLinear eval") { return lsoftmax_module_case(false, false); }
GLER_GRADCHECK("losses/LSoftmaxLinear training annealed beta") {
  Generator gen(8);
  layers::LSoftmaxOptions opt;
  opt.beta = 100;
  opt.beta_scale = 0.99;
  auto fc = std::make_shared<layers::LSoftmaxLinear>(5, 3, gen, opt);
  fc->to(DType::f64);
  const Tensor labels = labels_of({2, 0, 1, 1});
  // Every evaluation starts from the same β, so the function checked is fixed.
  return check(
      [fc, labels](Inputs in) {
        fc->set_beta(2.0);
        return fc->forward(in[0], labels);
      },
      {random_input({4, 5}, 1), fc->weight});
}

Result angle_linear_case(int m, const Tensor& w) {
  return check(
      [m](Inputs in) {
        const layers::AngleOutputs o = layers::angle_linear(in[0], in[1], m);
        return ops::concat({o.cos_theta, o.phi_theta}, 1);
      },
      {random_input({6, 5}, 1), w});
}
GLER_GRADCHECK("losses/angle_linear m1") { return angle_linear_case(1, random_input({5, 4}, 2)); }
GLER_GRADCHECK("losses/angle_linear m2") { return angle_linear_case(2, random_input({5, 4}, 2)); }
GLER_GRADCHECK("losses/angle_linear m3") { return angle_linear_case(3, random_input({5, 4}, 2)); }
GLER_GRADCHECK("losses/angle_linear m4") { return angle_linear_case(4, random_input({5, 4}, 2)); }
GLER_GRADCHECK("losses/angle_linear m5") { return angle_linear_case(5, random_input({5, 4}, 2)); }
// A weight column of norm below renorm's 1e-5 threshold is only scaled by 1e5 (the other branch);
// a finer step keeps the perturbation small against its entries of 1e-6.
GLER_GRADCHECK("losses/angle_linear m4 column below renorm threshold") {
  Tensor w = random_input({5, 4}, 2);
  {
    std::vector<double> v = w.to_vector<double>();
    for (std::size_t d = 0; d < 5; ++d) v[d * 4 + 1] *= 1e-6;
    w = Tensor::from_vector<double>(v, {5, 4});
    w.requires_grad_(true);
  }
  return check(
      [](Inputs in) {
        const layers::AngleOutputs o = layers::angle_linear(in[0], in[1], 4);
        return ops::concat({o.cos_theta, o.phi_theta}, 1);
      },
      {random_input({6, 5}, 1), w}, Options{1e-8, 1e-5, 1e-3});
}

Result angle_loss_case(std::int64_t iteration, double gamma) {
  auto loss = std::make_shared<layers::AngleLoss>(gamma);
  const Tensor labels = labels_of({3, 0, 1, 3, 2, 2});
  return check(
      [loss, labels, iteration](Inputs in) {
        loss->set_iteration(iteration);  // forward advances it: keep every evaluation at the same λ
        return loss->forward(layers::angle_linear(in[0], in[1], 4), labels);
      },
      {random_input({6, 5}, 1, -2, 2), random_input({5, 4}, 2)});
}
GLER_GRADCHECK("losses/angle_loss first iteration") { return angle_loss_case(0, 0.0); }
GLER_GRADCHECK("losses/angle_loss iteration 100") { return angle_loss_case(99, 0.0); }
GLER_GRADCHECK("losses/angle_loss lambda at its floor") { return angle_loss_case(100000, 0.0); }
// γ > 0 is not gradient-checked: the reference detaches p_y in the focal weight, so its gradient is
// deliberately not the derivative of the loss. The parity test covers it.

}  // namespace
}  // namespace gler::gradcheck
