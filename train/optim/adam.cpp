#include "train/optim/adam.h"

#include <cmath>

#include "train/optim/inplace.h"

namespace gler::train {

namespace {
std::vector<std::string> adam_state(const AdamOptions& o) {
  if (o.amsgrad) return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
  return {"exp_avg", "exp_avg_sq"};
}
}  // namespace

Adam::Adam(std::vector<ParamGroup> groups, const AdamOptions& options)
    : Optimizer(std::move(groups), adam_state(options), 2), options_(options) {
  GLER_CHECK(options.beta1 >= 0 && options.beta1 < 1, "Adam: beta1 " << options.beta1 << " is not in [0, 1)");
  GLER_CHECK(options.beta2 >= 0 && options.beta2 < 1, "Adam: beta2 " << options.beta2 << " is not in [0, 1)");
  GLER_CHECK(std::isfinite(options.eps) && options.eps >= 0, "Adam: eps " << options.eps);
}

// One PyTorch tensor op per line, in its order and rounded as it rounds (see sgd.cpp): addcmul_
// is self + (value * t1) * t2 with the last multiply-add fused, addcdiv_ self + (value * t1) / t2.
void Adam::update(Slot& slot, const Tensor& grad, const ParamGroup& group) {
  const Tensor& p = slot.param;
  const Tensor& m = slot.state[0];
  const Tensor& v = slot.state[1];
  const Tensor& s0 = slot.scratch[0];
  const Tensor& s1 = slot.scratch[1];
  Tensor d = grad;
  if (group.weight_decay != 0) {  // grad = grad.add(param, alpha=weight_decay)
    inplace::add_scaled(s0, grad, p, group.weight_decay);
    d = s0;
  }
  inplace::scale(m, m, options_.beta1);  // exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
  inplace::add_scaled(m, m, d, 1 - options_.beta1);
  inplace::scale(v, v, options_.beta2);  // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
  inplace::scale(s1, d, 1 - options_.beta2);
  inplace::multiply_add(v, v, s1, d);
  Tensor second = v;
  if (options_.amsgrad) {  // torch.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
    inplace::maximum(slot.state[2], slot.state[2], v);
    second = slot.state[2];
  }
  const double t = static_cast<double>(slot.steps + 1);
  const double bc1 = 1 - std::pow(options_.beta1, t);
  const double bc2 = 1 - std::pow(options_.beta2, t);
  double step_size = 0;
  inplace::sqrt(s1, second);  // denom, in s1
  if (options_.formula == AdamFormula::torch_1_13) {
    // denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps); step_size = lr / bias_correction1
    slot.scalar.fill_(std::sqrt(bc2));
    inplace::div(s1, s1, slot.scalar);
    step_size = group.lr / bc1;
  } else {
    // denom = exp_avg_sq.sqrt().add_(eps); step_size = lr * math.sqrt(bias_correction2) / bias_correction1
    step_size = group.lr * std::sqrt(bc2) / bc1;
  }
  inplace::add_scalar(s1, s1, options_.eps);
  inplace::scale(s0, m, -step_size);  // param.addcdiv_(exp_avg, denom, value=-step_size)
  inplace::div(s0, s0, s1);
  inplace::add(p, p, s0);
}

}  // namespace gler::train
