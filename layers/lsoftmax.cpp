#include "layers/lsoftmax.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/ops.h"
#include "layers/cross_entropy.h"

namespace gler::layers {

namespace {

double binomial(int n, int k) {
  double c = 1;
  for (int i = 1; i <= k; ++i) c = c * (n - k + i) / i;
  return c;
}

// cos(mθ) = Σ_n (−1)^n C(m, 2n) cos^(m−2n)θ (sin²θ)^n, evaluated as the reference does, term by
// term as (±C · cos^p) · (sin²)^q. A zero power is left out rather than computed as x^0, whose
// gradient would be 0·x^−1 (NaN at x = 0; PyTorch special-cases it to 0).
Tensor cos_m_theta(const Tensor& cos, int m) {
  const Tensor sin2 = ops::add_scalar(ops::neg(ops::pow(cos, 2.0)), 1.0);
  Tensor sum;
  for (int n = 0; 2 * n <= m; ++n) {
    const double coef = (n % 2 ? -1.0 : 1.0) * binomial(m, 2 * n);
    const int p = m - 2 * n;
    Tensor term = p > 0 ? ops::scale(ops::pow(cos, p), coef) : ops::scale(ops::pow(sin2, n), coef);
    if (p > 0 && n > 0) term = ops::mul(term, ops::pow(sin2, n));
    sum = sum.defined() ? ops::add(sum, term) : term;
  }
  return sum;
}

// k = ⌊acos(cos θ) / (π/m)⌋, a constant for the gradient. The reference clamps cos θ 1e-7 inside
// [−1, 1] first, so that acos never sees a rounding overshoot.
Tensor margin_k(const Tensor& cos, int m) {
  const Tensor theta = ops::acos(ops::clamp(cos.detach(), -1 + 1e-7, 1 - 1e-7));
  return ops::floor(ops::div(theta, Tensor::scalar(std::numbers::pi / m, cos.dtype(), cos.device())));
}

Tensor column_norms(const Tensor& w) { return ops::sqrt(ops::sum(ops::mul(w, w), 0)); }

void check_input(const Tensor& x, const Tensor& weight) {
  GLER_CHECK(x.ndim() == 2 && weight.ndim() == 2 && x.size(1) == weight.size(0),
             "lsoftmax: input " << x.shape().str() << " does not match weight " << weight.shape().str()
                                << " (x [B, in], weight [in, out])");
}

}  // namespace

Tensor margin_psi(const Tensor& cos_m, const Tensor& k) {
  // (−1)^k for integral k ≥ 0 as 1 − 2·(k mod 2): exact, and on any device.
  const Tensor parity = ops::sub(k, ops::scale(ops::floor(ops::scale(k, 0.5)), 2.0));
  const Tensor sign = ops::add_scalar(ops::scale(parity, -2.0), 1.0);
  return ops::sub(ops::mul(sign, cos_m), ops::scale(k, 2.0));
}

Tensor lsoftmax_logits(const Tensor& x, const Tensor& weight, const Tensor& labels, int margin, double beta) {
  check_input(x, weight);
  GLER_CHECK(margin >= 1, "lsoftmax: margin must be at least 1, got " << margin);
  const Tensor logits = ops::matmul(x, weight);
  check_logits_and_labels(logits, labels, "lsoftmax");
  const std::int64_t batch = x.size(0);
  const Tensor target = ops::gather(logits, labels, 1);  // ‖W_y‖‖x‖cos θ
  const Tensor w_norm = ops::gather(ops::expand(column_norms(weight), 0, batch), labels, 1);
  const Tensor norms = ops::mul(w_norm, ops::sqrt(ops::sum(ops::mul(x, x), 1)));
  const Tensor cos = ops::div(target, ops::add_scalar(norms, 1e-10));
  const Tensor k = margin_k(cos, margin);
  Tensor updated = ops::mul(norms, margin_psi(cos_m_theta(cos, margin), k));
  if (beta != 0.0)
    updated = ops::div(ops::add(updated, ops::scale(target, beta)), Tensor::scalar(1.0 + beta, x.dtype(), x.device()));
  return ops::scatter(logits, labels, updated, 1);
}

LSoftmaxLinear::LSoftmaxLinear(std::int64_t in_features, std::int64_t out_features, Generator& gen, LSoftmaxOptions opt)
    : opt_(opt), beta_(opt.beta) {
  GLER_CHECK(opt.margin >= 1, "LSoftmaxLinear: margin must be at least 1, got " << opt.margin);
  weight = register_parameter("weight", Tensor::empty({in_features, out_features}));
  normal_(weight, 0.0, std::sqrt(2.0 / static_cast<double>(in_features)), gen);
}

Tensor LSoftmaxLinear::forward(const Tensor& x, const Tensor& labels) {
  if (!is_training() || !labels.defined() || opt_.seed_compatible) {
    check_input(x, weight);
    return ops::matmul(x, weight);
  }
  Tensor logits = lsoftmax_logits(x, weight, labels, opt_.margin, std::max(beta_, opt_.beta_min));
  beta_ *= opt_.beta_scale;
  return logits;
}

}  // namespace gler::layers
