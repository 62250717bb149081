// SphereFace's A-Softmax (Liu et al. 2017), as clcarwin/sphereface_pytorch's net_sphere.py:
// AngleLinear(in, out, m, phiflag=True) produces (‖x‖cos θ, ‖x‖ψ(θ)) per class against unit-norm
// weight columns, ψ(θ) = (−1)^k cos(mθ) − 2k; AngleLoss mixes ψ into each target logit with a
// weight 1/(1+λ) that grows as λ anneals from 1500 down to 5, then takes a (focal) NLL.
#pragma once
#include <cstdint>

#include "core/init.h"
#include "core/module.h"

namespace gler::layers {

struct AngleOutputs {
  Tensor cos_theta;  // [B, out]: ‖x‖cos θ
  Tensor phi_theta;  // [B, out]: ‖x‖ψ(θ)
};

// x [B, in], weight [in, out] (its columns renormalised to unit length on the fly), m in 1..5.
AngleOutputs angle_linear(const Tensor& x, const Tensor& weight, int m);

class AngleLinear : public Module {
 public:
  // The reference's init: U(−1, 1), then columns renormalised to unit length.
  AngleLinear(std::int64_t in_features, std::int64_t out_features, Generator& gen, int m = 4);
  AngleOutputs forward(const Tensor& x) const { return angle_linear(x, weight, m_); }
  int m() const { return m_; }

  Tensor weight;  // [in, out], the sphere20a checkpoint's fc6.weight layout

 private:
  int m_;
};

class AngleLoss {
 public:
  explicit AngleLoss(double gamma = 0.0) : gamma_(gamma) {}
  // Advances the iteration counter (every call, training or not, as the reference), then returns
  // the mean over the batch of −log p_y · (1 − p_y)^γ, p_y from the softmax of the cos logits with
  // each target entry replaced by cos_y − cos_y/(1+λ) + ψ_y/(1+λ). labels: i64 [B].
  Tensor forward(const AngleOutputs& in, const Tensor& labels);

  // λ at iteration `it`: max(5, 1500 / (1 + 0.1·it)).
  static double lambda_at(std::int64_t it);
  // The iteration counter is training state: save it with a checkpoint, restore it on resume.
  std::int64_t iteration() const { return it_; }
  void set_iteration(std::int64_t it) { it_ = it; }
  double gamma() const { return gamma_; }

 private:
  double gamma_;
  std::int64_t it_ = 0;
};

}  // namespace gler::layers
