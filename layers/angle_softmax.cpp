#include "layers/angle_softmax.h"

#include <algorithm>

#include "core/autograd.h"
#include "core/ops.h"
#include "layers/cross_entropy.h"
#include "layers/lsoftmax.h"

namespace gler::layers {

namespace {

// w.renorm(2, 1, 1e-5).mul(1e5): each column with norm above 1e-5 is scaled by PyTorch's factor
// 1e-5 / (norm + 1e-7), others are kept, then everything by 1e5 — unit columns. Differentiated
// through the norm, as PyTorch's renorm backward; the branch is a 0/1 mask, so both sides are exact.
// cos θ does not depend on a column's scale: this is kept to round as the reference does.
Tensor renorm_columns(const Tensor& w) {
  constexpr double kMaxNorm = 1e-5;
  const Tensor norm = ops::sqrt(ops::sum(ops::mul(w, w), 0));
  const Tensor over = ops::relu(ops::sign(ops::add_scalar(norm.detach(), -kMaxNorm)));
  const Tensor shrink = ops::div(Tensor::scalar(kMaxNorm, w.dtype(), w.device()), ops::add_scalar(norm, 1e-7));
  const Tensor factor = ops::add(ops::mul(over, shrink), ops::add_scalar(ops::neg(over), 1.0));
  return ops::scale(ops::mul(w, factor), 1e5);
}

// The reference's mlambda: cos(mθ) as the Chebyshev polynomial T_m(cos θ), in its evaluation order.
Tensor chebyshev(const Tensor& c, int m) {
  switch (m) {
    case 1:
      return c;
    case 2:
      return ops::add_scalar(ops::scale(ops::pow(c, 2), 2), -1);
    case 3:
      return ops::sub(ops::scale(ops::pow(c, 3), 4), ops::scale(c, 3));
    case 4:
      return ops::add_scalar(ops::sub(ops::scale(ops::pow(c, 4), 8), ops::scale(ops::pow(c, 2), 8)), 1);
    case 5:
      return ops::add(ops::sub(ops::scale(ops::pow(c, 5), 16), ops::scale(ops::pow(c, 3), 20)), ops::scale(c, 5));
  }
  GLER_FAIL("AngleLinear: m must be in 1..5, got " << m);
}

}  // namespace

AngleOutputs angle_linear(const Tensor& x, const Tensor& weight, int m) {
  GLER_CHECK(x.ndim() == 2 && weight.ndim() == 2 && x.size(1) == weight.size(0),
             "angle_linear: input " << x.shape().str() << " does not match weight " << weight.shape().str()
                                    << " (x [B, in], weight [in, out])");
  GLER_CHECK(m >= 1 && m <= 5, "AngleLinear: m must be in 1..5, got " << m);
  const Tensor ww = renorm_columns(weight);
  const Tensor xlen = ops::expand(ops::sqrt(ops::sum(ops::mul(x, x), 1)), 1, weight.size(1));
  const Tensor wlen = ops::sqrt(ops::sum(ops::mul(ww, ww), 0));
  const Tensor cos = ops::clamp(ops::div(ops::div(ops::matmul(x, ww), xlen), wlen), -1.0, 1.0);
  // k = ⌊m·θ / 3.14159265⌋ with the reference's literal π, not differentiated.
  const Tensor theta = ops::acos(cos);
  const Tensor k = ops::floor(ops::div(ops::scale(theta, m), Tensor::scalar(3.14159265, x.dtype(), x.device())));
  const Tensor phi = margin_psi(chebyshev(cos, m), k);
  return {ops::mul(cos, xlen), ops::mul(phi, xlen)};
}

AngleLinear::AngleLinear(std::int64_t in_features, std::int64_t out_features, Generator& gen, int m) : m_(m) {
  GLER_CHECK(m >= 1 && m <= 5, "AngleLinear: m must be in 1..5, got " << m);
  weight = register_parameter("weight", Tensor::empty({in_features, out_features}));
  uniform_(weight, -1.0, 1.0, gen);
  NoGradGuard no_grad;
  weight.copy_(renorm_columns(weight));
}

double AngleLoss::lambda_at(std::int64_t it) {
  constexpr double kLambdaMin = 5.0, kLambdaMax = 1500.0;
  return std::max(kLambdaMin, kLambdaMax / (1 + 0.1 * static_cast<double>(it)));
}

Tensor AngleLoss::forward(const AngleOutputs& in, const Tensor& labels) {
  check_same_shape(in.cos_theta, in.phi_theta, "AngleLoss (cos_theta vs phi_theta)");
  check_same_dtype(in.cos_theta, in.phi_theta, "AngleLoss (cos_theta vs phi_theta)");
  check_logits_and_labels(in.cos_theta, labels, "AngleLoss");
  ++it_;
  const Tensor denom = Tensor::scalar(1.0 + lambda_at(it_), in.cos_theta.dtype(), in.cos_theta.device());
  const Tensor cos_y = ops::gather(in.cos_theta, labels, 1);
  const Tensor phi_y = ops::gather(in.phi_theta, labels, 1);
  const Tensor target = ops::add(ops::sub(cos_y, ops::div(cos_y, denom)), ops::div(phi_y, denom));
  const Tensor logpt = ops::gather(ops::log_softmax(ops::scatter(in.cos_theta, labels, target, 1), 1), labels, 1);
  Tensor loss = ops::neg(logpt);
  if (gamma_ != 0.0) {
    // Focal weight (1 − p_y)^γ with p_y detached, as the reference.
    const Tensor focal = ops::pow(ops::add_scalar(ops::neg(ops::exp(logpt.detach())), 1.0), gamma_);
    loss = ops::mul(loss, focal);
  }
  return ops::mean_all(loss);
}

}  // namespace gler::layers
