#include "train/optim/sgd.h"

#include <cmath>

#include "train/optim/inplace.h"

namespace gler::train {

namespace {
std::vector<std::string> sgd_state(const SgdOptions& o) {
  if (o.momentum == 0) return {};
  return {"momentum_buffer"};
}
}  // namespace

Sgd::Sgd(std::vector<ParamGroup> groups, const SgdOptions& options)
    : Optimizer(std::move(groups), sgd_state(options), 1), options_(options) {
  GLER_CHECK(std::isfinite(options.momentum) && options.momentum >= 0, "SGD: momentum " << options.momentum);
  GLER_CHECK(std::isfinite(options.dampening), "SGD: dampening " << options.dampening);
  GLER_CHECK(!options.nesterov || (options.momentum > 0 && options.dampening == 0),
             "SGD: Nesterov momentum requires a momentum and zero dampening (momentum "
                 << options.momentum << ", dampening " << options.dampening << ")");
}

// Each line is one PyTorch tensor op, in PyTorch's order and rounded as PyTorch rounds it (an add
// with alpha is one fused multiply-add there), so the result is torch.optim.SGD's bit for bit.
void Sgd::update(Slot& slot, const Tensor& grad, const ParamGroup& group) {
  const Tensor& p = slot.param;
  const Tensor& s0 = slot.scratch[0];
  Tensor d = grad;
  if (group.weight_decay != 0) {  // d_p = d_p.add(param, alpha=weight_decay)
    inplace::add_scaled(s0, grad, p, group.weight_decay);
    d = s0;
  }
  if (options_.momentum != 0) {
    const Tensor& buf = slot.state[0];
    if (slot.steps == 0) {  // buf = torch.clone(d_p)
      inplace::copy(buf, d);
    } else {  // buf.mul_(momentum).add_(d_p, alpha=1 - dampening)
      inplace::scale(buf, buf, options_.momentum);
      inplace::add_scaled(buf, buf, d, 1 - options_.dampening);
    }
    if (options_.nesterov) {  // d_p = d_p.add(buf, alpha=momentum)
      inplace::add_scaled(s0, d, buf, options_.momentum);
      d = s0;
    } else {
      d = buf;
    }
  }
  inplace::add_scaled(p, p, d, -group.lr);  // param.add_(d_p, alpha=-lr)
}

}  // namespace gler::train
