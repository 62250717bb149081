// Batch norm over x as [N, C, S] with own kernels rather than cuDNN's: the contract's running
// variance update (unbiased) and its optional affine parameters map directly onto a per-channel
// block reduction, and the statistics are accumulated in double for f32 inputs as well.
#include <cstdint>

#include "core/tensor.h"
#include "cuda/device_backend.h"
#include "cuda/launch.cuh"

namespace gler::cuda {

namespace {

struct BnGeometry {
  std::int64_t n, c, s;
  __host__ __device__ std::int64_t count() const { return n * s; }  // values per channel
  // Flat index of the m-th value (m < n*s) of channel ch.
  __device__ std::int64_t index(std::int64_t ch, std::int64_t m) const {
    const std::int64_t b = m / s;
    return (b * c + ch) * s + (m - b * s);
  }
};

// x as [N, C, S] for a channel count taken from the per-channel tensors (as the CPU does).
BnGeometry geometry_of(const Tensor& x, std::int64_t channels) {
  const std::int64_t n = x.ndim() > 0 ? x.size(0) : 1;
  return {n, channels, n * channels > 0 ? x.numel() / (n * channels) : 0};
}

unsigned channel_grid(std::int64_t c) { return static_cast<unsigned>(std::min<std::int64_t>(c, 1 << 16)); }

// One block per channel: two-pass mean and variance, the saved statistics, the running-stat
// update (momentum, unbiased variance) and the normalised output.
template <class T>
__global__ void bn_train_kernel(const T* x, const T* gamma, const T* beta, double eps, double momentum, T* run_mean,
                                T* run_var, bool relu, T* y, T* save_mean, T* save_invstd, BnGeometry g) {
  const std::int64_t count = g.count();
  for (std::int64_t ch = blockIdx.x; ch < g.c; ch += gridDim.x) {
    double sum = 0;
    for (std::int64_t m = threadIdx.x; m < count; m += blockDim.x) sum += static_cast<double>(x[g.index(ch, m)]);
    const double mean = block_reduce(sum, SumOp{}) / static_cast<double>(count);
    double sq = 0;
    for (std::int64_t m = threadIdx.x; m < count; m += blockDim.x) {
      const double d = static_cast<double>(x[g.index(ch, m)]) - mean;
      sq += d * d;
    }
    const double var = block_reduce(sq, SumOp{}) / static_cast<double>(count);
    const double invstd = 1.0 / sqrt(var + eps);
    if (threadIdx.x == 0) {
      save_mean[ch] = static_cast<T>(mean);
      save_invstd[ch] = static_cast<T>(invstd);
      if (run_mean) run_mean[ch] = static_cast<T>((1.0 - momentum) * run_mean[ch] + momentum * mean);
      if (run_var) {
        const double unbiased = var * static_cast<double>(count) / static_cast<double>(count - 1);
        run_var[ch] = static_cast<T>((1.0 - momentum) * run_var[ch] + momentum * unbiased);
      }
    }
    const double scale = invstd * (gamma ? static_cast<double>(gamma[ch]) : 1.0);
    const double shift = beta ? static_cast<double>(beta[ch]) : 0.0;
    for (std::int64_t m = threadIdx.x; m < count; m += blockDim.x) {
      const std::int64_t i = g.index(ch, m);
      const T v = static_cast<T>((static_cast<double>(x[i]) - mean) * scale + shift);
      y[i] = relu && !(v > T(0)) ? T(0) : v;
    }
  }
}

// gx = gamma*invstd * (gy - mean(gy) - xhat * mean(gy*xhat)); ggamma = sum(gy*xhat), gbeta = sum(gy).
template <class T>
__global__ void bn_backward_kernel(const T* x, const T* gy, const T* gamma, const T* save_mean, const T* save_invstd,
                                   T* gx, T* ggamma, T* gbeta, BnGeometry g) {
  const std::int64_t count = g.count();
  for (std::int64_t ch = blockIdx.x; ch < g.c; ch += gridDim.x) {
    const double mean = save_mean[ch], invstd = save_invstd[ch];
    double sum_gy = 0, sum_gy_xhat = 0;
    for (std::int64_t m = threadIdx.x; m < count; m += blockDim.x) {
      const std::int64_t i = g.index(ch, m);
      const double d = gy[i];
      sum_gy += d;
      sum_gy_xhat += d * (static_cast<double>(x[i]) - mean) * invstd;
    }
    sum_gy = block_reduce(sum_gy, SumOp{});
    sum_gy_xhat = block_reduce(sum_gy_xhat, SumOp{});
    if (threadIdx.x == 0) {
      if (ggamma) ggamma[ch] = static_cast<T>(sum_gy_xhat);
      if (gbeta) gbeta[ch] = static_cast<T>(sum_gy);
    }
    const double k = (gamma ? static_cast<double>(gamma[ch]) : 1.0) * invstd;
    const double mean_gy = sum_gy / static_cast<double>(count), mean_gy_xhat = sum_gy_xhat / static_cast<double>(count);
    for (std::int64_t m = threadIdx.x; m < count; m += blockDim.x) {
      const std::int64_t i = g.index(ch, m);
      const double xhat = (static_cast<double>(x[i]) - mean) * invstd;
      gx[i] = static_cast<T>(k * (static_cast<double>(gy[i]) - mean_gy - xhat * mean_gy_xhat));
    }
  }
}

template <class T>
const T* opt(const Tensor* t) {
  return t ? t->data<T>() : nullptr;
}
template <class T>
T* opt_mut(Tensor* t) {
  return t ? t->data<T>() : nullptr;
}

template <class T>
void train_typed(cudaStream_t s, const Tensor& x, const Tensor* gamma, const Tensor* beta, double eps, double momentum,
                 Tensor* running_mean, Tensor* running_var, bool relu, Tensor& y, Tensor& save_mean,
                 Tensor& save_invstd) {
  const BnGeometry g = geometry_of(x, save_mean.numel());
  if (g.c == 0) return;
  bn_train_kernel<<<channel_grid(g.c), kThreads, 0, s>>>(x.data<T>(), opt<T>(gamma), opt<T>(beta), eps, momentum,
                                                         opt_mut<T>(running_mean), opt_mut<T>(running_var), relu, y.data<T>(),
                                                         save_mean.data<T>(), save_invstd.data<T>(), g);
  check_launch("batch_norm_train", s);
}

// Eval mode is an affine map per channel; scale and shift are computed in double, as on the CPU.
template <class T>
void eval_typed(cudaStream_t s, const Tensor& x, const Tensor* gamma, const Tensor* beta, double eps,
                const Tensor& running_mean, const Tensor& running_var, bool relu, Tensor& y) {
  const BnGeometry g = geometry_of(x, running_mean.numel());
  const T* px = x.data<T>();
  const T* pg = opt<T>(gamma);
  const T* pb = opt<T>(beta);
  const T* rm = running_mean.data<T>();
  const T* rv = running_var.data<T>();
  T* py = y.data<T>();
  for_each(s, x.numel(), "batch_norm_eval", [=] __device__(std::int64_t i) {
    const std::int64_t ch = (i / g.s) % g.c;
    const T scale = static_cast<T>(1.0 / sqrt(static_cast<double>(rv[ch]) + eps)) * (pg ? pg[ch] : T(1));
    const T shift = (pb ? pb[ch] : T(0)) - rm[ch] * scale;
    const T v = px[i] * scale + shift;
    py[i] = relu && !(v > T(0)) ? T(0) : v;
  });
}

template <class T>
void backward_typed(cudaStream_t s, const Tensor& x, const Tensor& gy, const Tensor* gamma, const Tensor& save_mean,
                    const Tensor& save_invstd, Tensor& gx, Tensor* ggamma, Tensor* gbeta) {
  const BnGeometry g = geometry_of(x, save_mean.numel());
  if (g.c == 0) return;
  bn_backward_kernel<<<channel_grid(g.c), kThreads, 0, s>>>(x.data<T>(), gy.data<T>(), opt<T>(gamma),
                                                            save_mean.data<T>(), save_invstd.data<T>(), gx.data<T>(),
                                                            opt_mut<T>(ggamma), opt_mut<T>(gbeta), g);
  check_launch("batch_norm_backward", s);
}

template <class T>
void eval_backward_typed(cudaStream_t s, const Tensor& gy, const Tensor* gamma, double eps, const Tensor& running_var,
                         Tensor& gx) {
  const BnGeometry g = geometry_of(gy, running_var.numel());
  const T* pgy = gy.data<T>();
  const T* pg = opt<T>(gamma);
  const T* rv = running_var.data<T>();
  T* pgx = gx.data<T>();
  for_each(s, gy.numel(), "batch_norm_eval_backward", [=] __device__(std::int64_t i) {
    const std::int64_t ch = (i / g.s) % g.c;
    pgx[i] = pgy[i] * (static_cast<T>(1.0 / sqrt(static_cast<double>(rv[ch]) + eps)) * (pg ? pg[ch] : T(1)));
  });
}

}  // namespace

void CudaBackend::batch_norm_train(const Tensor& x, const Tensor* gamma, const Tensor* beta, double eps,
                                   double momentum, Tensor* running_mean, Tensor* running_var, bool relu, Tensor& y,
                                   Tensor& save_mean, Tensor& save_invstd) {
  const DeviceScope scope = on_device();
  dispatch_float(x.dtype(), "batch_norm", [&]<class T>() {
    train_typed<T>(stream(), x, gamma, beta, eps, momentum, running_mean, running_var, relu, y, save_mean,
                   save_invstd);
  });
}

void CudaBackend::batch_norm_eval(const Tensor& x, const Tensor* gamma, const Tensor* beta, double eps,
                                  const Tensor& running_mean, const Tensor& running_var, bool relu, Tensor& y) {
  const DeviceScope scope = on_device();
  dispatch_float(x.dtype(), "batch_norm",
                 [&]<class T>() { eval_typed<T>(stream(), x, gamma, beta, eps, running_mean, running_var, relu, y); });
}

void CudaBackend::batch_norm_backward(const Tensor& x, const Tensor& gy, const Tensor* gamma, const Tensor& save_mean,
                                      const Tensor& save_invstd, Tensor& gx, Tensor* ggamma, Tensor* gbeta) {
  const DeviceScope scope = on_device();
  dispatch_float(x.dtype(), "batch_norm backward", [&]<class T>() {
    backward_typed<T>(stream(), x, gy, gamma, save_mean, save_invstd, gx, ggamma, gbeta);
  });
}

void CudaBackend::batch_norm_eval_backward(const Tensor& gy, const Tensor* gamma, double eps, const Tensor& running_var,
                                           Tensor& gx) {
  const DeviceScope scope = on_device();
  dispatch_float(gy.dtype(), "batch_norm backward",
                 [&]<class T>() { eval_backward_typed<T>(stream(), gy, gamma, eps, running_var, gx); });
}

}  // namespace gler::cuda
