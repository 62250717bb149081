// L-Softmax (Liu et al. 2016, "Large-Margin Softmax Loss for CNNs"), as amirhfarzaneh/lsoftmax-pytorch's
// LSoftmaxLinear: a bias-free linear layer, W [in, out] (the seed's layout), whose training logits
// replace each sample's target score ‖W_y‖‖x‖cos θ by ‖W_y‖‖x‖ψ(θ), with
// ψ(θ) = (−1)^k cos(mθ) − 2k on [kπ/m, (k+1)π/m]. Feed the logits to cross_entropy.
#pragma once
#include "core/init.h"
#include "core/module.h"

namespace gler::layers {

struct LSoftmaxOptions {
  int margin = 4;
  // The reference's annealing: target = (margin logit + β·plain logit) / (1 + β), with β multiplied by
  // beta_scale after every training forward and never used below beta_min (the reference runs
  // 100 / 0.99 / 0). The seed has none: β = 0 is the pure margin.
  double beta = 0.0, beta_min = 0.0, beta_scale = 1.0;
  // The seed's trainer computes the margin logits, then returns the plain ones (SEED_SPEC §4.6,
  // §8.3): with this flag training logits are plain x·W too, reproducing the paper's models.
  bool seed_compatible = false;
};

// ψ = (−1)^k cos(mθ) − 2k from cos(mθ) and k = ⌊θm/π⌋ (a constant): the margin function that
// L-Softmax and A-Softmax share.
Tensor margin_psi(const Tensor& cos_m_theta, const Tensor& k);

// x [B, in], weight [in, out], labels i64 [B] -> logits [B, out] with the target entries replaced.
Tensor lsoftmax_logits(const Tensor& x, const Tensor& weight, const Tensor& labels, int margin, double beta);

class LSoftmaxLinear : public Module {
 public:
  // Weight drawn as the reference's reset_parameters: kaiming_normal_ of Wᵀ, std = √(2/in).
  LSoftmaxLinear(std::int64_t in_features, std::int64_t out_features, Generator& gen, LSoftmaxOptions opt = {});
  // Margin logits in training mode with labels; plain x·W in eval mode, without labels, or when
  // seed_compatible. A margin forward advances the β annealing.
  Tensor forward(const Tensor& x, const Tensor& labels = Tensor());

  // The current β: annealing state, saved with a training checkpoint.
  double beta() const { return beta_; }
  void set_beta(double beta) { beta_ = beta; }
  const LSoftmaxOptions& options() const { return opt_; }

  Tensor weight;

 private:
  LSoftmaxOptions opt_;
  double beta_;
};

}  // namespace gler::layers
