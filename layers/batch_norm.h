// Batch normalisation (PyTorch's BatchNorm1d/2d): per-channel normalisation with batch statistics
// in training (biased variance; running stats updated with momentum and the unbiased variance)
// and running statistics in eval. Names and order as PyTorch: weight, bias, running_mean,
// running_var, num_batches_tracked (i64 scalar).
#pragma once
#include <memory>
#include "core/module.h"

namespace gler::layers {

// F.batch_norm: x [N, C, *]; weight, bias, running_mean, running_var [C] or undefined (no affine;
// no running stats, training only). Training updates the running stats in place.
Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum, double eps);

// Kernel-level pieces of batch_norm() for fused ops that run their own backward (the dense block,
// which passes channel-major views [1, C, N·H·W]): no autograd, no checks, x [N, C, *]. With relu,
// y = relu(batch_norm(x)) in one pass; the backward below is batch_norm's alone either way.
struct BatchNormSaved {
  bool training = true;
  bool relu = false;
  double eps = 0;
  Tensor weight, bias;               // may be undefined
  Tensor running_mean, running_var;  // eval: the statistics normalised with
  Tensor mean, invstd;               // training: the batch statistics
};
BatchNormSaved batch_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                  const Tensor& running_mean, const Tensor& running_var, bool training,
                                  double momentum, double eps, bool relu, Tensor& y);
// The same y again from the saved state, without touching the running stats.
void batch_norm_reforward(const BatchNormSaved& saved, const Tensor& x, Tensor& y);
struct BatchNormGrads {
  Tensor x, weight, bias;  // weight/bias undefined without affine
};
BatchNormGrads batch_norm_backward(const BatchNormSaved& saved, const Tensor& x, const Tensor& gy);

class BatchNorm : public Module {
 public:
  // Fused callers: batch_norm_forward() with this layer's state and mode, counting the batch.
  BatchNormSaved normalize(const Tensor& x, bool relu, Tensor& y) const;

  Tensor weight, bias, running_mean, running_var, num_batches_tracked;
  const double eps, momentum;

 protected:
  BatchNorm(std::int64_t num_features, double eps, double momentum, bool affine);
  Tensor run(const Tensor& x) const;

 private:
  void count_batch() const;
  // Host mirror of num_batches_tracked, so counting a batch never reads the device back; it is
  // re-read once whenever the buffer was written by anyone else (a loaded state dict, a move).
  mutable std::int64_t batches_ = 0;
  mutable std::weak_ptr<Storage> counted_storage_;
  mutable std::uint64_t counted_version_ = 0;
};

// x [N, C] or [N, C, L].
class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(std::int64_t num_features, double eps = 1e-5, double momentum = 0.1, bool affine = true)
      : BatchNorm(num_features, eps, momentum, affine) {}
  Tensor forward(const Tensor& x) const;
};

// x [N, C, H, W].
class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(std::int64_t num_features, double eps = 1e-5, double momentum = 0.1, bool affine = true)
      : BatchNorm(num_features, eps, momentum, affine) {}
  Tensor forward(const Tensor& x) const;
};

}  // namespace gler::layers
