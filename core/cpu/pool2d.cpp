// Max and average pooling on the CPU, one (n, c) plane per iteration (one block of channels in
// the convolution epilogue). Window bounds and divisors follow PyTorch's CPU kernels exactly; the
// output size is the caller's (y's shape).
#include "core/cpu/pool2d.h"

#include <algorithm>
#include <cmath>
#include <cstring>
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

// out[l·stride + i] = in[i·B + l] for l < lanes, i < n: the lanes of a channel block back to
// channel planes, four by four lanes and pixels transposed in registers (__builtin_shufflevector:
// GCC 12 and clang), the edges one by one.
template <int B>
void unblock(const float* in, std::int64_t n, std::int64_t lanes, std::int64_t stride, float* out) {
  using V = float __attribute__((vector_size(16)));
  std::int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    std::int64_t l = 0;
    for (; l + 4 <= lanes; l += 4) {
      V r[4];
      for (int k = 0; k < 4; ++k) std::memcpy(&r[k], in + (i + k) * B + l, sizeof(V));
      const V t0 = __builtin_shufflevector(r[0], r[1], 0, 4, 1, 5), t1 = __builtin_shufflevector(r[0], r[1], 2, 6, 3, 7);
      const V t2 = __builtin_shufflevector(r[2], r[3], 0, 4, 1, 5), t3 = __builtin_shufflevector(r[2], r[3], 2, 6, 3, 7);
      const V o[4] = {__builtin_shufflevector(t0, t2, 0, 1, 4, 5), __builtin_shufflevector(t0, t2, 2, 3, 6, 7),
                      __builtin_shufflevector(t1, t3, 0, 1, 4, 5), __builtin_shufflevector(t1, t3, 2, 3, 6, 7)};
      for (int k = 0; k < 4; ++k) std::memcpy(out + (l + k) * stride + i, &o[k], sizeof(V));
    }
    for (; l < lanes; ++l)
      for (int k = 0; k < 4; ++k) out[l * stride + i + k] = in[(i + k) * B + l];
  }
  for (; i < n; ++i)
    for (std::int64_t l = 0; l < lanes; ++l) out[l * stride + i] = in[i * B + l];
}

// prelu_max_pool_blocked for a block of B channels. Each pixel of the block holds B contiguous
// lanes, so PReLU and both passes of the separable maximum are loops over B lanes, whatever the
// stride (`omp simd` keeps them vector code: GCC would unroll them fully and leave the selects as
// branches); only the last step, writing each lane's row of outputs to its channel's plane, is a
// transposition. Every window holds at least one pixel (padding is at most half the kernel, and
// in ceil mode the last window starts inside the input), so each starts from its first pixel.
template <int B>
void prelu_max_pool_blocked(const ChannelBlocked& z, const float* slope, bool shared, const Pool2dArgs* pool, float* y,
                            std::int64_t P, std::int64_t Q) {
  const std::int64_t blocks = (z.c + B - 1) / B, H = z.h, W = z.w;
#pragma omp parallel if (z.n * blocks * H * W * B > kParallelGrain)
  {
    std::vector<float> rows(static_cast<std::size_t>(W * B)), tile(static_cast<std::size_t>(Q * B));
#pragma omp for
    for (std::int64_t nb = 0; nb < z.n * blocks; ++nb) {
      const std::int64_t c0 = nb % blocks * B, lanes = std::min<std::int64_t>(B, z.c - c0);
      float a[B];
      for (int l = 0; l < B; ++l) a[l] = slope[shared ? 0 : std::min(c0 + l, z.c - 1)];
      const float* zb = z.data + nb * H * W * B;
      float* yb = y + (nb / blocks * z.c + c0) * P * Q;
      float* __restrict r = rows.data();
      // r = PReLU of input row h (first), or the maximum of r and it.
      auto take_row = [&](std::int64_t h, bool first) {
        const float* __restrict zr = zb + h * W * B;
        for (std::int64_t w = 0; w < W; ++w)
#pragma omp simd
          for (int l = 0; l < B; ++l) {
            const float v = zr[w * B + l], act = v > 0.0f ? v : a[l] * v;
            r[w * B + l] = first ? act : max_or_nan(r[w * B + l], act);
          }
      };
      if (!pool) {
        for (std::int64_t h = 0; h < H; ++h) {
          take_row(h, true);
          unblock<B>(r, W, lanes, P * Q, yb + h * W);
        }
        continue;
      }
      for (std::int64_t p = 0; p < P; ++p) {
        // The window's rows, clipped to the input, reduced to one row of maxima.
        const std::int64_t top = p * pool->stride_h - pool->pad_h;
        const std::int64_t h0 = std::max<std::int64_t>(top, 0), h1 = std::min(top + pool->kernel_h, H);
        for (std::int64_t h = h0; h < h1; ++h) take_row(h, h == h0);
        // Then each window's columns.
        for (std::int64_t q = 0; q < Q; ++q) {
          const std::int64_t left = q * pool->stride_w - pool->pad_w;
          const std::int64_t w0 = std::max<std::int64_t>(left, 0), w1 = std::min(left + pool->kernel_w, W);
          float* __restrict t = tile.data() + q * B;
          std::copy(r + w0 * B, r + (w0 + 1) * B, t);
          for (std::int64_t w = w0 + 1; w < w1; ++w)
#pragma omp simd
            for (int l = 0; l < B; ++l) t[l] = max_or_nan(t[l], r[w * B + l]);
        }
        unblock<B>(tile.data(), Q, lanes, P * Q, yb + p * Q);
      }
    }
  }
}

}  // namespace

void prelu_max_pool_blocked(const ChannelBlocked& z, const float* slope, bool shared_slope, const Pool2dArgs* pool,
                            float* y, std::int64_t P, std::int64_t Q) {
  if (z.block == 16) return prelu_max_pool_blocked<16>(z, slope, shared_slope, pool, y, P, Q);
  GLER_CHECK(z.block == 8, "prelu_max_pool_blocked: channel blocks of " << z.block << " are not supported");
  prelu_max_pool_blocked<8>(z, slope, shared_slope, pool, y, P, Q);
}

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
