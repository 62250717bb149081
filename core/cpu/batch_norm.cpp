// Batch norm over x viewed as [N, C, S]: one parallel task per channel, statistics accumulated in
// double (as PyTorch's CPU kernels do for f32) with a two-pass mean/variance for accuracy.
#include <cmath>

#include "core/cpu/cpu_backend.h"
#include "core/tensor.h"

namespace gler {

namespace {
constexpr std::int64_t kParallelGrain = 1 << 15;

struct NCS {
  std::int64_t n, c, s;
};

// The [N, C, S] view of x given its channel count (x's dim 1, or 1 for a 1-D x).
NCS ncs_view(const Tensor& x, std::int64_t channels) {
  const std::int64_t n = x.ndim() > 0 ? x.shape()[0] : 1;
  return {n, channels, n * channels > 0 ? x.numel() / (n * channels) : 0};
}

template <class T>
const T* ptr_or_null(const Tensor* t) {
  return t ? t->host_data<T>() : nullptr;
}

// y = x·scale + shift over channel c of the [N, C, S] view, then ReLU when kRelu. The ReLU is a
// template parameter so that each inner loop stays one branch-free, vectorisable line.
template <bool kRelu, class T>
void affine_rows(const T* px, T* py, const NCS& v, std::int64_t c, T scale, T shift) {
  for (std::int64_t i = 0; i < v.n; ++i) {
    const std::int64_t row = (i * v.c + c) * v.s;
    for (std::int64_t k = 0; k < v.s; ++k) {
      const T y = px[row + k] * scale + shift;
      py[row + k] = kRelu ? (y > T(0) ? y : T(0)) : y;
    }
  }
}

template <class T>
void affine_channel(bool relu, const T* px, T* py, const NCS& v, std::int64_t c, T scale, T shift) {
  if (relu)
    affine_rows<true>(px, py, v, c, scale, shift);
  else
    affine_rows<false>(px, py, v, c, scale, shift);
}
}  // namespace

void CpuBackend::batch_norm_train(const Tensor& x, const Tensor* gamma, const Tensor* beta, double eps,
                                  double momentum, Tensor* running_mean, Tensor* running_var, bool relu,
                                  Tensor& y, Tensor& save_mean, Tensor& save_invstd) {
  dispatch_float(x.dtype(), "batch_norm", [&]<class T>() {
    const NCS v = ncs_view(x, save_mean.numel());
    const T* px = x.host_data<T>();
    const T* pg = ptr_or_null<T>(gamma);
    const T* pb = ptr_or_null<T>(beta);
    T* prm = running_mean ? running_mean->host_data<T>() : nullptr;
    T* prv = running_var ? running_var->host_data<T>() : nullptr;
    T* py = y.host_data<T>();
    T* pm = save_mean.host_data<T>();
    T* pi = save_invstd.host_data<T>();
    const std::int64_t count = v.n * v.s;
#pragma omp parallel for if (x.numel() > kParallelGrain)
    for (std::int64_t c = 0; c < v.c; ++c) {
      double sum = 0;
      for (std::int64_t i = 0; i < v.n; ++i)
        for (std::int64_t k = 0; k < v.s; ++k) sum += px[(i * v.c + c) * v.s + k];
      const double mean = sum / static_cast<double>(count);
      double sq = 0;
      for (std::int64_t i = 0; i < v.n; ++i)
        for (std::int64_t k = 0; k < v.s; ++k) {
          const double d = px[(i * v.c + c) * v.s + k] - mean;
          sq += d * d;
        }
      // Normalise with the biased variance; the running estimate takes the unbiased one.
      const double invstd = 1.0 / std::sqrt(sq / static_cast<double>(count) + eps);
      pm[c] = static_cast<T>(mean);
      pi[c] = static_cast<T>(invstd);
      if (prm) prm[c] = static_cast<T>(momentum * mean + (1 - momentum) * prm[c]);
      if (prv) prv[c] = static_cast<T>(momentum * sq / static_cast<double>(count - 1) + (1 - momentum) * prv[c]);
      const T scale = static_cast<T>(invstd) * (pg ? pg[c] : T(1));
      const T shift = (pb ? pb[c] : T(0)) - static_cast<T>(mean) * scale;
      affine_channel(relu, px, py, v, c, scale, shift);
    }
  });
}

void CpuBackend::batch_norm_eval(const Tensor& x, const Tensor* gamma, const Tensor* beta, double eps,
                                 const Tensor& running_mean, const Tensor& running_var, bool relu, Tensor& y) {
  dispatch_float(x.dtype(), "batch_norm", [&]<class T>() {
    const NCS v = ncs_view(x, running_mean.numel());
    const T* px = x.host_data<T>();
    const T* pg = ptr_or_null<T>(gamma);
    const T* pb = ptr_or_null<T>(beta);
    const T* prm = running_mean.host_data<T>();
    const T* prv = running_var.host_data<T>();
    T* py = y.host_data<T>();
#pragma omp parallel for if (x.numel() > kParallelGrain)
    for (std::int64_t c = 0; c < v.c; ++c) {
      const T invstd = static_cast<T>(1.0 / std::sqrt(static_cast<double>(prv[c]) + eps));
      const T scale = invstd * (pg ? pg[c] : T(1));
      const T shift = (pb ? pb[c] : T(0)) - prm[c] * scale;
      affine_channel(relu, px, py, v, c, scale, shift);
    }
  });
}

// With x̂ = (x - mean)·invstd: gβ = Σ gy, gγ = Σ gy·x̂,
// gx = γ·invstd·(gy - gβ/M - x̂·gγ/M) over the M = N·S values of a channel.
void CpuBackend::batch_norm_backward(const Tensor& x, const Tensor& gy, const Tensor* gamma, const Tensor& save_mean,
                                     const Tensor& save_invstd, Tensor& gx, Tensor* ggamma, Tensor* gbeta) {
  dispatch_float(x.dtype(), "batch_norm backward", [&]<class T>() {
    const NCS v = ncs_view(x, save_mean.numel());
    const T* px = x.host_data<T>();
    const T* pgy = gy.host_data<T>();
    const T* pg = ptr_or_null<T>(gamma);
    const T* pm = save_mean.host_data<T>();
    const T* pi = save_invstd.host_data<T>();
    T* pgx = gx.host_data<T>();
    T* pgg = ggamma ? ggamma->host_data<T>() : nullptr;
    T* pgb = gbeta ? gbeta->host_data<T>() : nullptr;
    const double count = static_cast<double>(v.n * v.s);
#pragma omp parallel for if (x.numel() > kParallelGrain)
    for (std::int64_t c = 0; c < v.c; ++c) {
      const double mean = pm[c], invstd = pi[c];
      double sum_gy = 0, sum_gy_xhat = 0;
      for (std::int64_t i = 0; i < v.n; ++i)
        for (std::int64_t k = 0; k < v.s; ++k) {
          const std::int64_t at = (i * v.c + c) * v.s + k;
          sum_gy += pgy[at];
          sum_gy_xhat += pgy[at] * (px[at] - mean) * invstd;
        }
      if (pgg) pgg[c] = static_cast<T>(sum_gy_xhat);
      if (pgb) pgb[c] = static_cast<T>(sum_gy);
      const double w = (pg ? static_cast<double>(pg[c]) : 1.0) * invstd;
      const double mean_gy = sum_gy / count, mean_gy_xhat = sum_gy_xhat / count;
      for (std::int64_t i = 0; i < v.n; ++i)
        for (std::int64_t k = 0; k < v.s; ++k) {
          const std::int64_t at = (i * v.c + c) * v.s + k;
          const double xhat = (px[at] - mean) * invstd;
          pgx[at] = static_cast<T>(w * (pgy[at] - mean_gy - xhat * mean_gy_xhat));
        }
    }
  });
}

void CpuBackend::batch_norm_eval_backward(const Tensor& gy, const Tensor* gamma, double eps, const Tensor& running_var,
                                          Tensor& gx) {
  dispatch_float(gy.dtype(), "batch_norm backward", [&]<class T>() {
    const NCS v = ncs_view(gy, running_var.numel());
    const T* pgy = gy.host_data<T>();
    const T* pg = ptr_or_null<T>(gamma);
    const T* prv = running_var.host_data<T>();
    T* pgx = gx.host_data<T>();
#pragma omp parallel for if (gy.numel() > kParallelGrain)
    for (std::int64_t c = 0; c < v.c; ++c) {
      const T scale = static_cast<T>(1.0 / std::sqrt(static_cast<double>(prv[c]) + eps)) * (pg ? pg[c] : T(1));
      for (std::int64_t i = 0; i < v.n; ++i)
        for (std::int64_t k = 0; k < v.s; ++k) {
          const std::int64_t at = (i * v.c + c) * v.s + k;
          pgx[at] = pgy[at] * scale;
        }
    }
  });
}

}  // namespace gler
