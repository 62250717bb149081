// torch.optim.Adam. With d = grad + weight_decay * param (L2 in the gradient) and t the update count,
//   m = beta1 * m + (1 - beta1) * d,   v = beta2 * v + (1 - beta2) * d * d   (amsgrad: vmax = max(vmax, v))
// and bc1 = 1 - beta1^t, bc2 = 1 - beta2^t (in double, as PyTorch computes them from Python floats):
//   torch 1.13:  param -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps)
//   torch 0.4:   param -= (lr * sqrt(bc2) / bc1) * m / (sqrt(v) + eps)
// The two differ only in where eps sits (0.4's is in effect eps * sqrt(bc2) of 1.13's): 0.4 is what
// the seed's 4para_adam model (SEED_SPEC §4.10: lr 3e-4, betas 0.9/0.999, eps 1e-8, no decay) was
// trained with; 1.13 is today's PyTorch and the default.
#pragma once
#include "train/optim/optimizer.h"

namespace gler::train {

enum class AdamFormula { torch_1_13, torch_0_4 };

struct AdamOptions {
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  bool amsgrad = false;
  AdamFormula formula = AdamFormula::torch_1_13;
};

class Adam final : public Optimizer {
 public:
  explicit Adam(std::vector<ParamGroup> groups, const AdamOptions& options = {});
  const AdamOptions& options() const { return options_; }

 private:
  void update(Slot& slot, const Tensor& grad, const ParamGroup& group) override;
  AdamOptions options_;
};

}  // namespace gler::train
