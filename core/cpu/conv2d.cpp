// Convolution on the CPU as im2col + GEMM (OpenBLAS; f32 on cpu::sgemm), per sample n and group g:
//   forward          y[n,g]  = W[g] · col(x[n,g])             [Kg,PQ] = [Kg,CgRS] · [CgRS,PQ]
//   backward data    gx[n,g] = col2im(W[g]ᵀ · gy[n,g])
//   backward filter  gW[g]  += gy[n,g] · col(x[n,g])ᵀ          summed over n; gb = Σ gy
// A 1x1, stride-1, unpadded convolution is a plain GEMM: x[n,g] is already its own [Cg,HW] col.
//
// Threads: with at least as many samples as cores, samples run in parallel (each OpenMP thread
// has its own col buffer and calls a single-threaded GEMM; oneDNN's sgemm runs single-threaded
// inside a parallel region by itself). Otherwise samples go one at a time through the threaded
// GEMM with a single-threaded im2col: no OpenMP region inside, since idle threads of one pool
// (OpenBLAS's) spinning beside the other's cost milliseconds (docs/PERFORMANCE.md).
//
// With oneDNN (GLER_WITH_DNNL), f32 convolutions that it runs faster go to conv2d_dnnl.cpp instead.
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/sgemm.h"
#ifdef GLER_WITH_DNNL
#include "core/cpu/conv2d_dnnl.h"
#endif
#include "core/tensor.h"

namespace gler {

namespace {

constexpr std::int64_t kParallelGrain = 1 << 15;

struct Geometry {
  std::int64_t N, C, H, W, K, R, S, P, Q;
  std::int64_t groups, Cg, Kg;
  std::int64_t rows() const { return Cg * R * S; }  // col is [rows, P*Q]
  std::int64_t pixels() const { return P * Q; }
  bool direct;  // 1x1, stride 1, no padding: no col needed

  Geometry(const Conv2dArgs& a, const Tensor& x, const Tensor& w, const Tensor& y)
      : N(x.size(0)), C(x.size(1)), H(x.size(2)), W(x.size(3)), K(w.size(0)), R(w.size(2)), S(w.size(3)),
        P(y.size(2)), Q(y.size(3)), groups(a.groups), Cg(C / a.groups), Kg(K / a.groups),
        direct(R == 1 && S == 1 && a.stride_h == 1 && a.stride_w == 1 && a.pad_h == 0 && a.pad_w == 0) {}
};

// Whether to run samples in parallel with single-threaded GEMMs (see the header comment).
bool batch_parallel(const Geometry& g) {
  const int threads = omp_get_max_threads();
  return threads > 1 && g.N >= threads;
}

// Sets OpenBLAS's (process-wide) thread count for a scope: 1 inside batch-parallel loops, so that
// OpenMP threads calling GEMM at once each run theirs in place instead of queueing for OpenBLAS's
// thread pool.
class BlasThreads {
 public:
  explicit BlasThreads(int n) : saved_(openblas_get_num_threads()) { openblas_set_num_threads(n); }
  ~BlasThreads() { openblas_set_num_threads(saved_); }
  BlasThreads(const BlasThreads&) = delete;
  BlasThreads& operator=(const BlasThreads&) = delete;

 private:
  int saved_;
};

// Row-major C = op(A)·op(B) + beta·C, every matrix contiguous. f32 takes cpu::sgemm (oneDNN's
// when built with it, see core/cpu/sgemm.h).
template <class T>
void blas_gemm(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, const T* a, const T* b, T beta, T* c) {
  const auto bm = static_cast<blasint>(m), bn = static_cast<blasint>(n), bk = static_cast<blasint>(k);
  const blasint lda = ta ? bm : bk, ldb = tb ? bk : bn;
  const auto opa = ta ? CblasTrans : CblasNoTrans, opb = tb ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float>)
    cpu::sgemm(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, beta, c, bn);
  else
    cblas_dgemm(CblasRowMajor, opa, opb, bm, bn, bk, 1.0, a, lda, b, ldb, beta, c, bn);
}

// The column range [lo, hi) of output positions q whose input column q*stride + offset lies in [0, W).
struct ValidRange {
  std::int64_t lo, hi;
};
ValidRange valid_range(std::int64_t offset, std::int64_t stride, std::int64_t extent, std::int64_t count) {
  const std::int64_t lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  const std::int64_t hi = extent - offset <= 0 ? 0 : (extent - offset + stride - 1) / stride;
  return {std::min(lo, count), std::clamp(hi, std::min(lo, count), count)};
}

// col[(c*R + r)*S + s, p*Q + q] = x[c, p*sh - ph + r*dh, q*sw - pw + s*dw], zero outside x.
template <class T>
void im2col(const Conv2dArgs& a, const Geometry& g, const T* x, T* col) {
  const std::int64_t rows = g.rows(), RS = g.R * g.S;
  for (std::int64_t row = 0; row < rows; ++row) {
    const std::int64_t c = row / RS, r = (row / g.S) % g.R, s = row % g.S;
    const std::int64_t w_off = s * a.dilation_w - a.pad_w;
    const ValidRange v = valid_range(w_off, a.stride_w, g.W, g.Q);
    T* out = col + row * g.pixels();
    for (std::int64_t p = 0; p < g.P; ++p, out += g.Q) {
      const std::int64_t h = p * a.stride_h - a.pad_h + r * a.dilation_h;
      if (h < 0 || h >= g.H) {
        std::fill(out, out + g.Q, T(0));
        continue;
      }
      const T* in = x + (c * g.H + h) * g.W + w_off;
      std::fill(out, out + v.lo, T(0));
      if (a.stride_w == 1)
        std::copy(in + v.lo, in + v.hi, out + v.lo);
      else
        for (std::int64_t q = v.lo; q < v.hi; ++q) out[q] = in[q * a.stride_w];
      std::fill(out + v.hi, out + g.Q, T(0));
    }
  }
}

// The adjoint of im2col: gx (cleared here) accumulates every col entry at the pixel it was read from.
template <class T>
void col2im(const Conv2dArgs& a, const Geometry& g, const T* col, T* gx) {
  for (std::int64_t c = 0; c < g.Cg; ++c) {
    T* plane = gx + c * g.H * g.W;
    std::fill(plane, plane + g.H * g.W, T(0));
    for (std::int64_t r = 0; r < g.R; ++r)
      for (std::int64_t s = 0; s < g.S; ++s) {
        const std::int64_t w_off = s * a.dilation_w - a.pad_w;
        const ValidRange v = valid_range(w_off, a.stride_w, g.W, g.Q);
        const T* in = col + ((c * g.R + r) * g.S + s) * g.pixels();
        for (std::int64_t p = 0; p < g.P; ++p, in += g.Q) {
          const std::int64_t h = p * a.stride_h - a.pad_h + r * a.dilation_h;
          if (h < 0 || h >= g.H) continue;
          T* out = plane + h * g.W + w_off;
          for (std::int64_t q = v.lo; q < v.hi; ++q) out[q * a.stride_w] += in[q];
        }
      }
  }
}

// A per-thread scratch buffer that only grows, so repeated convolutions do not reallocate.
template <class T>
T* scratch(std::size_t n) {
  thread_local std::vector<T> buffer;
  if (buffer.size() < n) buffer.resize(n);
  return buffer.data();
}

// Runs body(n) for every sample: in parallel with single-threaded GEMMs, or in order.
template <class F>
void for_each_sample(const Geometry& g, F&& body) {
  if (batch_parallel(g)) {
    BlasThreads single(1);
#pragma omp parallel for schedule(static)
    for (std::int64_t n = 0; n < g.N; ++n) body(n);
  } else {
    for (std::int64_t n = 0; n < g.N; ++n) body(n);
  }
}

}  // namespace

void CpuBackend::conv2d_forward(const Conv2dArgs& a, const Tensor& x, const Tensor& w, const Tensor* bias,
                                Tensor& y) {
#ifdef GLER_WITH_DNNL
  if (dnnl_conv::wanted(x, w, y.shape())) return dnnl_conv::forward(a, x, w, bias, y);
#endif
  const Geometry g(a, x, w, y);
  dispatch_float(x.dtype(), "conv2d", [&]<class T>() {
    const T* px = x.host_data<T>();
    const T* pw = w.host_data<T>();
    const T* pb = bias ? bias->host_data<T>() : nullptr;
    T* py = y.host_data<T>();
    for_each_sample(g, [&](std::int64_t n) {
      T* col = g.direct ? nullptr : scratch<T>(static_cast<std::size_t>(g.rows() * g.pixels()));
      for (std::int64_t gi = 0; gi < g.groups; ++gi) {
        const T* xg = px + (n * g.C + gi * g.Cg) * g.H * g.W;
        T* yg = py + (n * g.K + gi * g.Kg) * g.pixels();
        if (!g.direct) im2col(a, g, xg, col);
        blas_gemm<T>(false, false, g.Kg, g.pixels(), g.rows(), pw + gi * g.Kg * g.rows(), g.direct ? xg : col, T(0), yg);
      }
      if (pb)
        for (std::int64_t k = 0; k < g.K; ++k) {
          T* row = py + (n * g.K + k) * g.pixels();
          for (std::int64_t i = 0; i < g.pixels(); ++i) row[i] += pb[k];
        }
    });
  });
}

void CpuBackend::conv2d_prelu_forward(const Conv2dArgs& a, const Tensor& x, const Tensor& w, const Tensor* bias,
                                      const Tensor& slope, const Pool2dArgs* pool, Tensor& y) {
  const Shape conv = check_conv2d_prelu(a, x, w, bias, slope, pool, y);
#ifdef GLER_WITH_DNNL
  if (dnnl_conv::wanted(x, w, conv) && dnnl_conv::forward_prelu(a, x, w, bias, slope, pool, conv, y)) return;
#endif
  // Plain layouts: the three kernels in turn.
  Tensor z = Tensor::empty(conv, x.dtype());
  conv2d_forward(a, x, w, bias, z);
  if (!pool) return prelu_forward(z, slope, y);
  Tensor activated = Tensor::empty(conv, x.dtype());
  prelu_forward(z, slope, activated);
  Tensor no_indices;
  max_pool2d_forward(*pool, activated, y, no_indices);
}

void CpuBackend::conv2d_backward_data(const Conv2dArgs& a, const Tensor& gy, const Tensor& w, Tensor& gx) {
#ifdef GLER_WITH_DNNL
  if (dnnl_conv::wanted(gx, w, gy.shape())) return dnnl_conv::backward_data(a, gy, w, gx);
#endif
  const Geometry g(a, gx, w, gy);
  dispatch_float(gy.dtype(), "conv2d_backward_data", [&]<class T>() {
    const T* pgy = gy.host_data<T>();
    const T* pw = w.host_data<T>();
    T* pgx = gx.host_data<T>();
    for_each_sample(g, [&](std::int64_t n) {
      T* col = g.direct ? nullptr : scratch<T>(static_cast<std::size_t>(g.rows() * g.pixels()));
      for (std::int64_t gi = 0; gi < g.groups; ++gi) {
        const T* gyg = pgy + (n * g.K + gi * g.Kg) * g.pixels();
        T* gxg = pgx + (n * g.C + gi * g.Cg) * g.H * g.W;
        const T* wg = pw + gi * g.Kg * g.rows();
        if (g.direct) {
          blas_gemm<T>(true, false, g.rows(), g.pixels(), g.Kg, wg, gyg, T(0), gxg);
        } else {
          blas_gemm<T>(true, false, g.rows(), g.pixels(), g.Kg, wg, gyg, T(0), col);
          col2im(a, g, col, gxg);
        }
      }
    });
  });
}

void CpuBackend::conv2d_backward_filter(const Conv2dArgs& a, const Tensor& x, const Tensor& gy, Tensor& gw,
                                        Tensor* gb) {
#ifdef GLER_WITH_DNNL
  if (dnnl_conv::wanted(x, gw, gy.shape())) return dnnl_conv::backward_filter(a, x, gy, gw, gb);
#endif
  const Geometry g(a, x, gw, gy);
  dispatch_float(x.dtype(), "conv2d_backward_filter", [&]<class T>() {
    const T* px = x.host_data<T>();
    const T* pgy = gy.host_data<T>();
    T* pgw = gw.host_data<T>();
    const std::int64_t wsize = gw.numel();
    // Each thread sums its samples into its own gW (thread 0's is gw itself), overwriting it at
    // its first sample; the others are added into gw at the end. Samples are assigned statically,
    // so the sum is reproducible for a given thread count.
    const int threads = batch_parallel(g) ? omp_get_max_threads() : 1;
    auto partial = std::make_unique_for_overwrite<T[]>(static_cast<std::size_t>((threads - 1) * wsize));
    std::vector<char> used(static_cast<std::size_t>(threads), 0);
    for_each_sample(g, [&](std::int64_t n) {
      const int t = omp_get_thread_num();
      T* acc = t == 0 ? pgw : partial.get() + (t - 1) * wsize;
      const T beta = used[static_cast<std::size_t>(t)] ? T(1) : T(0);
      used[static_cast<std::size_t>(t)] = 1;
      T* col = g.direct ? nullptr : scratch<T>(static_cast<std::size_t>(g.rows() * g.pixels()));
      for (std::int64_t gi = 0; gi < g.groups; ++gi) {
        const T* xg = px + (n * g.C + gi * g.Cg) * g.H * g.W;
        const T* gyg = pgy + (n * g.K + gi * g.Kg) * g.pixels();
        if (!g.direct) im2col(a, g, xg, col);
        blas_gemm<T>(false, true, g.Kg, g.rows(), g.pixels(), gyg, g.direct ? xg : col, beta, acc + gi * g.Kg * g.rows());
      }
    });
    if (!used[0]) std::fill(pgw, pgw + wsize, T(0));  // an empty batch
    if (threads > 1) {
#pragma omp parallel for if (wsize > kParallelGrain)
      for (std::int64_t i = 0; i < wsize; ++i)
        for (int t = 1; t < threads; ++t)
          if (used[static_cast<std::size_t>(t)]) pgw[i] += partial[static_cast<std::size_t>((t - 1) * wsize + i)];
    }
    if (gb) {
      T* pgb = gb->host_data<T>();
      for (std::int64_t k = 0; k < g.K; ++k) {
        double s = 0;  // N·P·Q terms: a double sum keeps f32 at full precision
        for (std::int64_t n = 0; n < g.N; ++n) {
          const T* row = pgy + (n * g.K + k) * g.pixels();
          for (std::int64_t i = 0; i < g.pixels(); ++i) s += row[i];
        }
        pgb[k] = static_cast<T>(s);
      }
    }
  });
}

}  // namespace gler
