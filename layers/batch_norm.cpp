#include "layers/batch_norm.h"

#include "core/autograd.h"
#include "core/backend.h"

namespace gler::layers {

namespace {

Tensor empty_like(const Tensor& x) { return Tensor::empty(x.shape(), x.dtype(), x.device()); }
Tensor detached(const Tensor& t) { return t.defined() ? t.detach() : Tensor(); }
const Tensor* ptr(const Tensor& t) { return t.defined() ? &t : nullptr; }

void check_stat(const Tensor& x, const Tensor& t, std::int64_t channels, const char* what) {
  if (!t.defined()) return;
  GLER_CHECK(t.ndim() == 1 && t.numel() == channels, "batch_norm: " << what << " has shape " << t.shape().str()
                                                                     << ", input " << x.shape().str() << " needs ["
                                                                     << channels << "]");
  check_same_dtype(x, t, "batch_norm");
  check_same_device(x, t, "batch_norm");
}

// Σ over N and S of t viewed as [N, C, S]: [C].
Tensor channel_sums(const Tensor& t, std::int64_t channels) {
  const std::int64_t n = t.shape()[0], rest = t.numel() / n;
  Tensor over_n = Tensor::empty({rest}, t.dtype(), t.device());
  t.backend().reduce(ReduceOp::sum, t, AxisView{1, n, rest}, over_n, nullptr);
  Tensor out = Tensor::empty({channels}, t.dtype(), t.device());
  t.backend().reduce(ReduceOp::sum, over_n, AxisView{channels, rest / channels, 1}, out, nullptr);
  return out;
}

}  // namespace

BatchNormSaved batch_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                  const Tensor& running_mean, const Tensor& running_var, bool training,
                                  double momentum, double eps, bool relu, Tensor& y) {
  BatchNormSaved s;
  s.training = training;
  s.relu = relu;
  s.eps = eps;
  s.weight = detached(weight);
  s.bias = detached(bias);
  const Tensor rm = detached(running_mean), rv = detached(running_var);
  if (training) {
    const std::int64_t channels = x.ndim() >= 2 ? x.shape()[1] : 1;
    s.mean = Tensor::empty({channels}, x.dtype(), x.device());
    s.invstd = Tensor::empty({channels}, x.dtype(), x.device());
    Tensor rm_out = rm, rv_out = rv;
    x.backend().batch_norm_train(x, ptr(s.weight), ptr(s.bias), eps, momentum, rm.defined() ? &rm_out : nullptr,
                                 rv.defined() ? &rv_out : nullptr, relu, y, s.mean, s.invstd);
    if (rm.defined()) {  // the running statistics were updated in place
      rm.bump_version();
      rv.bump_version();
    }
  } else {
    s.running_mean = rm;
    s.running_var = rv;
    x.backend().batch_norm_eval(x, ptr(s.weight), ptr(s.bias), eps, rm, rv, relu, y);
  }
  return s;
}

void batch_norm_reforward(const BatchNormSaved& s, const Tensor& x, Tensor& y) {
  if (s.training) {
    // The kernel is deterministic, so recomputing the batch statistics reproduces y exactly.
    Tensor mean = empty_like(s.mean), invstd = empty_like(s.invstd);
    x.backend().batch_norm_train(x, ptr(s.weight), ptr(s.bias), s.eps, 0.0, nullptr, nullptr, s.relu, y, mean,
                                 invstd);
  } else {
    x.backend().batch_norm_eval(x, ptr(s.weight), ptr(s.bias), s.eps, s.running_mean, s.running_var, s.relu, y);
  }
}

BatchNormGrads batch_norm_backward(const BatchNormSaved& s, const Tensor& x, const Tensor& gy) {
  BatchNormGrads g;
  g.x = empty_like(x);
  const bool affine = s.weight.defined();
  if (affine) {
    g.weight = empty_like(s.weight);
    g.bias = empty_like(s.weight);
  }
  if (s.training) {
    x.backend().batch_norm_backward(x, gy, ptr(s.weight), s.mean, s.invstd, g.x, affine ? &g.weight : nullptr,
                                    affine ? &g.bias : nullptr);
    return g;
  }
  x.backend().batch_norm_eval_backward(gy, ptr(s.weight), s.eps, s.running_var, g.x);
  if (affine) {
    // In eval y = γ·x̂ + β with x̂ from the running stats: gγ = Σ gy·x̂, gβ = Σ gy.
    const std::int64_t channels = s.running_var.numel();
    Tensor xhat = empty_like(x);
    x.backend().batch_norm_eval(x, nullptr, nullptr, s.eps, s.running_mean, s.running_var, false, xhat);
    x.backend().binary(BinaryOp::mul, xhat, gy, xhat);
    g.weight = channel_sums(xhat, channels);
    g.bias = channel_sums(gy, channels);
  }
  return g;
}

Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum, double eps) {
  GLER_CHECK(x.ndim() >= 2 && is_floating(x.dtype()), "batch_norm needs a floating input [N, C, *], got " << describe(x));
  const std::int64_t channels = x.shape()[1];
  check_stat(x, weight, channels, "weight");
  check_stat(x, bias, channels, "bias");
  check_stat(x, running_mean, channels, "running_mean");
  check_stat(x, running_var, channels, "running_var");
  GLER_CHECK(running_mean.defined() == running_var.defined(), "batch_norm: running_mean and running_var go together");
  if (training)
    GLER_CHECK(x.numel() / channels > 1,
               "Expected more than 1 value per channel when training, got input size " << x.shape().str());
  else
    GLER_CHECK(running_mean.defined(), "batch_norm in eval mode needs running statistics");

  Tensor y = empty_like(x);
  const BatchNormSaved saved =
      batch_norm_forward(x, weight, bias, running_mean, running_var, training, momentum, eps, false, y);
  std::vector<Tensor> inputs{x};
  if (weight.defined()) inputs.push_back(weight);
  if (bias.defined()) inputs.push_back(bias);
  return record(y, "batch_norm", inputs, [saved, x = x.detach(), n = inputs.size()](const Tensor& g) {
    BatchNormGrads grads = batch_norm_backward(saved, x, g);
    std::vector<Tensor> out{grads.x};
    if (n > 1) out.push_back(grads.weight);
    if (n > 2) out.push_back(grads.bias);
    return out;
  });
}

BatchNorm::BatchNorm(std::int64_t num_features, double eps_, double momentum_, bool affine)
    : eps(eps_), momentum(momentum_) {
  if (affine) {
    weight = register_parameter("weight", Tensor::full({num_features}, 1.0));
    bias = register_parameter("bias", Tensor::zeros({num_features}));
  }
  running_mean = register_buffer("running_mean", Tensor::zeros({num_features}));
  running_var = register_buffer("running_var", Tensor::full({num_features}, 1.0));
  num_batches_tracked = register_buffer("num_batches_tracked", Tensor::scalar(0, DType::i64));
  counted_storage_ = num_batches_tracked.impl().storage;
  counted_version_ = num_batches_tracked.version();
}

void BatchNorm::count_batch() const {
  if (!is_training()) return;
  const std::shared_ptr<Storage>& storage = num_batches_tracked.impl().storage;
  // Written by someone else since the last count (a loaded state dict, a move): read it back once.
  if (counted_storage_.lock() != storage || counted_version_ != num_batches_tracked.version())
    batches_ = num_batches_tracked.to_vector<std::int64_t>().front();
  num_batches_tracked.fill_(static_cast<double>(++batches_));  // a kernel launch on the GPU, no sync
  counted_storage_ = storage;
  counted_version_ = num_batches_tracked.version();
}

Tensor BatchNorm::run(const Tensor& x) const {
  Tensor y = batch_norm(x, weight, bias, running_mean, running_var, is_training(), momentum, eps);
  count_batch();
  return y;
}

BatchNormSaved BatchNorm::normalize(const Tensor& x, bool relu, Tensor& y) const {
  BatchNormSaved saved =
      batch_norm_forward(x, weight, bias, running_mean, running_var, is_training(), momentum, eps, relu, y);
  count_batch();
  return saved;
}

Tensor BatchNorm1d::forward(const Tensor& x) const {
  GLER_CHECK(x.ndim() == 2 || x.ndim() == 3, "BatchNorm1d expected 2D or 3D input, got " << x.shape().str());
  return run(x);
}

Tensor BatchNorm2d::forward(const Tensor& x) const {
  GLER_CHECK(x.ndim() == 4, "BatchNorm2d expected 4D input, got " << x.shape().str());
  return run(x);
}

}  // namespace gler::layers
