// Max and average pooling on the CPU, one (n, c) plane per iteration. Window bounds and
// divisors follow PyTorch's CPU kernels exactly; the output size is the caller's (y's shape).
#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

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

namespace {

// Maxima without indices, separably: the maximum over each window's columns for every input row,
// then over its rows. Max is associative and a NaN anywhere in a window still wins, so the values
// equal the two-dimensional loop's. Each pass runs one window offset over all outputs at a time,
// combining offsets in ascending order as the 2-D loop does: plain strided loops that vectorise,
// instead of a serial chain of data-dependent compares.
template <class T>
T max_or_nan(T best, T v) {
  const bool take = (v > best) | (v != v);
  return take ? v : best;
}

// The outputs o whose window offset k lands inside [0, n): o·stride − pad + k in range.
std::pair<std::int64_t, std::int64_t> outputs_covering(std::int64_t k, std::int64_t stride, std::int64_t pad,
                                                       std::int64_t n, std::int64_t outputs) {
  const std::int64_t shift = k - pad;  // input index of output 0
  const std::int64_t lo = shift >= 0 ? 0 : (-shift + stride - 1) / stride;
  const std::int64_t hi = n - 1 - shift < 0 ? 0 : std::min(outputs, (n - 1 - shift) / stride + 1);
  return {lo, std::max(lo, hi)};
}

template <class T>
void max_pool2d_values(const Pool2dArgs& a, const Planes& pl, const T* px, T* py) {
  constexpr T lowest = -std::numeric_limits<T>::infinity();
  // The output ranges of each window offset, once for all planes and rows.
  std::vector<std::pair<std::int64_t, std::int64_t>> cols(static_cast<std::size_t>(a.kernel_w)),
      rows(static_cast<std::size_t>(a.kernel_h));
  for (std::int64_t k = 0; k < a.kernel_w; ++k) cols[k] = outputs_covering(k, a.stride_w, a.pad_w, pl.W, pl.Q);
  for (std::int64_t k = 0; k < a.kernel_h; ++k) rows[k] = outputs_covering(k, a.stride_h, a.pad_h, pl.H, pl.P);
#pragma omp parallel if (pl.count * pl.H * pl.W > kParallelGrain)
  {
    std::vector<T> row_max(static_cast<std::size_t>(pl.H * pl.Q));
#pragma omp for
    for (std::int64_t c = 0; c < pl.count; ++c) {
      const T* in = px + c * pl.H * pl.W;
      std::fill(row_max.begin(), row_max.end(), lowest);
      for (std::int64_t h = 0; h < pl.H; ++h) {
        T* __restrict r = row_max.data() + h * pl.Q;
        const T* __restrict x = in + h * pl.W;
        for (std::int64_t k = 0; k < a.kernel_w; ++k) {
          const auto [q0, q1] = cols[k];
          const std::int64_t shift = k - a.pad_w;
          for (std::int64_t q = q0; q < q1; ++q) r[q] = max_or_nan(r[q], x[q * a.stride_w + shift]);
        }
      }
      T* out = py + c * pl.P * pl.Q;
      std::fill(out, out + pl.P * pl.Q, lowest);
      for (std::int64_t k = 0; k < a.kernel_h; ++k) {
        const auto [p0, p1] = rows[k];
        for (std::int64_t p = p0; p < p1; ++p) {
          T* __restrict o = out + p * pl.Q;
          const T* __restrict r = row_max.data() + (p * a.stride_h + k - a.pad_h) * pl.Q;
          for (std::int64_t q = 0; q < pl.Q; ++q) o[q] = max_or_nan(o[q], r[q]);
        }
      }
    }
  }
}

}  // namespace

void CpuBackend::max_pool2d_forward(const Pool2dArgs& a, const Tensor& x, Tensor& y, Tensor& indices) {
  const Planes pl = planes(x, y);
  if (!indices.defined()) {
    dispatch_float(x.dtype(), "max_pool2d", [&]<class T>() { max_pool2d_values(a, pl, x.host_data<T>(), y.host_data<T>()); });
    return;
  }
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
          // Selects instead of branches: which element wins is data-dependent, so a branch
          // mispredicts about every other time.
          T best = -std::numeric_limits<T>::infinity();
          std::int64_t arg = win.h0 * pl.W + win.w0;
          for (std::int64_t h = win.h0; h < win.h1; ++h)
            for (std::int64_t w = win.w0; w < win.w1; ++w) {
              const T v = in[h * pl.W + w];
              const bool take = v > best || v != v;
              best = take ? v : best;
              arg = take ? h * pl.W + w : arg;
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
