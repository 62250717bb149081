// PReLU over x viewed as [N, C, S]: y = x > 0 ? x : a_c·x, with one slope per channel or one shared.
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/tensor.h"

namespace gler {

namespace {
constexpr std::int64_t kParallelGrain = 1 << 15;

// x's [N, C, S] view: channels are dim 1; a 0-D or 1-D x is one channel (PyTorch's rule).
struct NCS {
  std::int64_t n, c, s;
};
NCS ncs_view(const Tensor& x) {
  if (x.ndim() < 2) return {x.numel(), 1, 1};
  const std::int64_t n = x.shape()[0], c = x.shape()[1];
  return {n, c, n * c > 0 ? x.numel() / (n * c) : 0};
}
}  // namespace

void CpuBackend::prelu_forward(const Tensor& x, const Tensor& slope, Tensor& y) {
  dispatch_float(x.dtype(), "prelu", [&]<class T>() {
    const NCS v = ncs_view(x);
    const T* px = x.host_data<T>();
    const T* pa = slope.host_data<T>();
    const bool shared = slope.numel() == 1;
    T* py = y.host_data<T>();
    const std::int64_t planes = v.n * v.c;
#pragma omp parallel for if (x.numel() > kParallelGrain)
    for (std::int64_t p = 0; p < planes; ++p) {
      const T a = pa[shared ? 0 : p % v.c];
      // Restrict-qualified rows and a select instead of a branch, so the loop vectorises (the
      // sign of x is random: a branch mispredicts half the time).
      const T* __restrict xr = px + p * v.s;
      T* __restrict yr = py + p * v.s;
      for (std::int64_t k = 0; k < v.s; ++k) {
        const T xv = xr[k], neg = a * xv;
        yr[k] = xv > T(0) ? xv : neg;
      }
    }
  });
}

// gx = x > 0 ? gy : a·gy; ga = Σ over x <= 0 of x·gy (per channel, or over everything when shared).
void CpuBackend::prelu_backward(const Tensor& x, const Tensor& slope, const Tensor& gy, Tensor& gx, Tensor* gslope) {
  dispatch_float(x.dtype(), "prelu backward", [&]<class T>() {
    const NCS v = ncs_view(x);
    const T* px = x.host_data<T>();
    const T* pa = slope.host_data<T>();
    const T* pgy = gy.host_data<T>();
    const bool shared = slope.numel() == 1;
    T* pgx = gx.host_data<T>();
    std::vector<double> per_channel(static_cast<std::size_t>(v.c), 0.0);
#pragma omp parallel for if (x.numel() > kParallelGrain)
    for (std::int64_t c = 0; c < v.c; ++c) {
      const T a = pa[shared ? 0 : c];
      double acc = 0;
      for (std::int64_t i = 0; i < v.n; ++i)
        for (std::int64_t k = 0; k < v.s; ++k) {
          const std::int64_t at = (i * v.c + c) * v.s + k;
          const T xv = px[at];
          pgx[at] = xv > T(0) ? pgy[at] : a * pgy[at];
          if (!(xv > T(0))) acc += static_cast<double>(xv) * pgy[at];
        }
      per_channel[static_cast<std::size_t>(c)] = acc;
    }
    if (!gslope) return;
    T* pga = gslope->host_data<T>();
    if (shared) {
      double total = 0;
      for (double s : per_channel) total += s;
      pga[0] = static_cast<T>(total);
    } else {
      for (std::int64_t c = 0; c < v.c; ++c) pga[c] = static_cast<T>(per_channel[static_cast<std::size_t>(c)]);
    }
  });
}

}  // namespace gler
