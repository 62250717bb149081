// Max and average pooling on the CPU, one (n, c) plane per iteration. Window bounds and
// divisors follow PyTorch's CPU kernels exactly; the output size is the caller's (y's shape).
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/cpu/cpu_backend.h"
#include "core/tensor.h"

namespace gler {

namespace {

constexpr std::int64_t kParallelGrain = 1 << 15;

struct Planes {
  std::int64_t count, H, W, P, Q;
};

Planes planes(const Tensor& x, const Tensor& y) {
  return {x.size(0) * x.size(1), x.size(2), x.size(3), y.size(2), y.size(3)};
}

// One window, clipped to the input; `divisor` is what average pooling divides by: the window
// clipped to the padded input (count_include_pad) or to the input itself.
struct Window {
  std::int64_t h0, h1, w0, w1;
  std::int64_t divisor;
};

Window window(const Pool2dArgs& a, const Planes& pl, std::int64_t p, std::int64_t q) {
  std::int64_t h0 = p * a.stride_h - a.pad_h, w0 = q * a.stride_w - a.pad_w;
  std::int64_t h1 = std::min(h0 + a.kernel_h, pl.H + a.pad_h), w1 = std::min(w0 + a.kernel_w, pl.W + a.pad_w);
  const std::int64_t padded = (h1 - h0) * (w1 - w0);
  h0 = std::max<std::int64_t>(h0, 0);
  w0 = std::max<std::int64_t>(w0, 0);
  h1 = std::min(h1, pl.H);
  w1 = std::min(w1, pl.W);
  return {h0, h1, w0, w1, a.count_include_pad ? padded : (h1 - h0) * (w1 - w0)};
}

}  // namespace

void CpuBackend::max_pool2d_forward(const Pool2dArgs& a, const Tensor& x, Tensor& y, Tensor& indices) {
  const Planes pl = planes(x, y);
  dispatch_float(x.dtype(), "max_pool2d", [&]<class T>() {
    const T* px = x.host_data<T>();
    T* py = y.host_data<T>();
    std::int64_t* pi = indices.host_data<std::int64_t>();
#pragma omp parallel for if (x.numel() > kParallelGrain)
    for (std::int64_t c = 0; c < pl.count; ++c) {
      const T* in = px + c * pl.H * pl.W;
      for (std::int64_t p = 0; p < pl.P; ++p)
        for (std::int64_t q = 0; q < pl.Q; ++q) {
          const Window win = window(a, pl, p, q);
          // PyTorch's rule: the first maximum wins, and a NaN replaces whatever came before it.
          T best = -std::numeric_limits<T>::infinity();
          std::int64_t arg = win.h0 * pl.W + win.w0;
          for (std::int64_t h = win.h0; h < win.h1; ++h)
            for (std::int64_t w = win.w0; w < win.w1; ++w) {
              const T v = in[h * pl.W + w];
              if (v > best || std::isnan(v)) {
                best = v;
                arg = h * pl.W + w;
              }
            }
          const std::int64_t o = (c * pl.P + p) * pl.Q + q;
          py[o] = best;
          pi[o] = arg;
        }
    }
  });
}

void CpuBackend::max_pool2d_backward(const Pool2dArgs&, const Tensor& gy, const Tensor& indices, Tensor& gx) {
  const Planes pl = planes(gx, gy);
  dispatch_float(gy.dtype(), "max_pool2d_backward", [&]<class T>() {
    const T* pgy = gy.host_data<T>();
    const std::int64_t* pi = indices.host_data<std::int64_t>();
    T* pgx = gx.host_data<T>();
#pragma omp parallel for if (gx.numel() > kParallelGrain)
    for (std::int64_t c = 0; c < pl.count; ++c) {
      T* plane = pgx + c * pl.H * pl.W;
      std::fill(plane, plane + pl.H * pl.W, T(0));
      for (std::int64_t o = c * pl.P * pl.Q; o < (c + 1) * pl.P * pl.Q; ++o) plane[pi[o]] += pgy[o];
    }
  });
}

void CpuBackend::avg_pool2d_forward(const Pool2dArgs& a, const Tensor& x, Tensor& y) {
  const Planes pl = planes(x, y);
  dispatch_float(x.dtype(), "avg_pool2d", [&]<class T>() {
    const T* px = x.host_data<T>();
    T* py = y.host_data<T>();
#pragma omp parallel for if (x.numel() > kParallelGrain)
    for (std::int64_t c = 0; c < pl.count; ++c) {
      const T* in = px + c * pl.H * pl.W;
      for (std::int64_t p = 0; p < pl.P; ++p)
        for (std::int64_t q = 0; q < pl.Q; ++q) {
          const Window win = window(a, pl, p, q);
          T sum = 0;
          for (std::int64_t h = win.h0; h < win.h1; ++h)
            for (std::int64_t w = win.w0; w < win.w1; ++w) sum += in[h * pl.W + w];
          // A window entirely in the padding averages nothing: PyTorch writes 0.
          py[(c * pl.P + p) * pl.Q + q] = win.h0 < win.h1 && win.w0 < win.w1 ? sum / static_cast<T>(win.divisor) : T(0);
        }
    }
  });
}

void CpuBackend::avg_pool2d_backward(const Pool2dArgs& a, const Tensor& gy, Tensor& gx) {
  const Planes pl = planes(gx, gy);
  dispatch_float(gy.dtype(), "avg_pool2d_backward", [&]<class T>() {
    const T* pgy = gy.host_data<T>();
    T* pgx = gx.host_data<T>();
#pragma omp parallel for if (gx.numel() > kParallelGrain)
    for (std::int64_t c = 0; c < pl.count; ++c) {
      T* plane = pgx + c * pl.H * pl.W;
      std::fill(plane, plane + pl.H * pl.W, T(0));
      for (std::int64_t p = 0; p < pl.P; ++p)
        for (std::int64_t q = 0; q < pl.Q; ++q) {
          const Window win = window(a, pl, p, q);
          if (win.h0 >= win.h1 || win.w0 >= win.w1) continue;
          const T g = pgy[(c * pl.P + p) * pl.Q + q] / static_cast<T>(win.divisor);
          for (std::int64_t h = win.h0; h < win.h1; ++h)
            for (std::int64_t w = win.w0; w < win.w1; ++w) plane[h * pl.W + w] += g;
        }
    }
  });
}

}  // namespace gler
