// torch.optim.SGD (1.13's single-tensor update; torch 0.4's, which the seed trained with, is the
// same arithmetic): with d = grad + weight_decay * param,
//   momentum 0:        param -= lr * d
//   first update:      buf = d                       (no dampening on the first step)
//   later updates:     buf = momentum * buf + (1 - dampening) * d
//   then               param -= lr * (nesterov ? d + momentum * buf : buf)
// The gradient itself is left unchanged. The seed: lr 1e-3 or 1e-2, momentum 0.9, nothing else.
#pragma once
#include "train/optim/optimizer.h"

namespace gler::train {

struct SgdOptions {
  double momentum = 0;
  double dampening = 0;
  bool nesterov = false;  // needs momentum > 0 and dampening 0, as torch requires
};

class Sgd final : public Optimizer {
 public:
  explicit Sgd(std::vector<ParamGroup> groups, const SgdOptions& options = {});
  const SgdOptions& options() const { return options_; }

 private:
  void update(Slot& slot, const Tensor& grad, const ParamGroup& group) override;
  SgdOptions options_;
};

}  // namespace gler::train
