// Kernels that work along one axis of x viewed as [outer, n, inner], plus row copies and permute.
#include <omp.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include "core/cpu/cpu_backend.h"
#include "core/tensor.h"

namespace gler {

namespace {
constexpr std::int64_t kParallelGrain = 1 << 15;

std::int64_t checked_index(std::int64_t j, std::int64_t n) {
  GLER_CHECK(j >= 0 && j < n, "index " << j << " is out of range [0, " << n << ")");
  return j;
}
}  // namespace

void CpuBackend::reduce(ReduceOp op, const Tensor& x, AxisView v, Tensor& out, Tensor* indices) {
  dispatch_float(x.dtype(), "reduce", [&]<class T>() {
    const T* px = x.host_data<T>();
    T* po = out.host_data<T>();
    std::int64_t* pi = indices ? indices->host_data<std::int64_t>() : nullptr;
    const std::int64_t total = v.outer * v.inner;
#pragma omp parallel for if (x.numel() > kParallelGrain)
    for (std::int64_t t = 0; t < total; ++t) {
      const std::int64_t o = t / v.inner, i = t % v.inner;
      const T* base = px + o * v.n * v.inner + i;
      if (op == ReduceOp::max) {
        // NaN wins, as in PyTorch; otherwise the first maximum.
        T best = base[0];
        std::int64_t arg = 0;
        for (std::int64_t j = 1; j < v.n && !std::isnan(best); ++j) {
          const T val = base[j * v.inner];
          if (val > best || std::isnan(val)) {
            best = val;
            arg = j;
          }
        }
        po[t] = best;
        if (pi) pi[t] = arg;
      } else {
        T s = 0;
        for (std::int64_t j = 0; j < v.n; ++j) s += base[j * v.inner];
        po[t] = op == ReduceOp::mean ? s / static_cast<T>(v.n) : s;
      }
    }
  });
}

void CpuBackend::broadcast_axis(const Tensor& g, AxisView v, double scale, Tensor& out) {
  dispatch_float(g.dtype(), "broadcast_axis", [&]<class T>() {
    const T* pg = g.host_data<T>();
    T* po = out.host_data<T>();
    const T s = static_cast<T>(scale);
#pragma omp parallel for if (out.numel() > kParallelGrain)
    for (std::int64_t o = 0; o < v.outer; ++o)
      for (std::int64_t j = 0; j < v.n; ++j)
        for (std::int64_t i = 0; i < v.inner; ++i) po[(o * v.n + j) * v.inner + i] = s * pg[o * v.inner + i];
  });
}

void CpuBackend::gather_axis(const Tensor& x, const Tensor& idx, AxisView v, Tensor& out) {
  dispatch_float(x.dtype(), "gather", [&]<class T>() {
    const T* px = x.host_data<T>();
    const std::int64_t* pi = idx.host_data<std::int64_t>();
    T* po = out.host_data<T>();
    for (std::int64_t o = 0; o < v.outer; ++o)
      for (std::int64_t i = 0; i < v.inner; ++i) {
        const std::int64_t j = checked_index(pi[o * v.inner + i], v.n);
        po[o * v.inner + i] = px[(o * v.n + j) * v.inner + i];
      }
  });
}

void CpuBackend::scatter_add_axis(const Tensor& g, const Tensor& idx, AxisView v, Tensor& out) {
  dispatch_float(g.dtype(), "scatter_add", [&]<class T>() {
    const T* pg = g.host_data<T>();
    const std::int64_t* pi = idx.host_data<std::int64_t>();
    T* po = out.host_data<T>();
    for (std::int64_t o = 0; o < v.outer; ++o)
      for (std::int64_t i = 0; i < v.inner; ++i) {
        const std::int64_t j = checked_index(pi[o * v.inner + i], v.n);
        po[(o * v.n + j) * v.inner + i] += pg[o * v.inner + i];
      }
  });
}

void CpuBackend::softmax(const Tensor& x, AxisView v, bool log, Tensor& y) {
  dispatch_float(x.dtype(), "softmax", [&]<class T>() {
    const T* px = x.host_data<T>();
    T* py = y.host_data<T>();
    // Each exponential once, kept in y until the sum divides it.
#pragma omp parallel for collapse(2) if (x.numel() > kParallelGrain)
    for (std::int64_t o = 0; o < v.outer; ++o)
      for (std::int64_t i = 0; i < v.inner; ++i) {
        const T* xb = px + o * v.n * v.inner + i;
        T* yb = py + o * v.n * v.inner + i;
        T mx = -std::numeric_limits<T>::infinity();
        for (std::int64_t j = 0; j < v.n; ++j) mx = xb[j * v.inner] > mx ? xb[j * v.inner] : mx;
        T s = 0;
        for (std::int64_t j = 0; j < v.n; ++j) {
          const T e = std::exp(xb[j * v.inner] - mx);
          s += e;
          if (!log) yb[j * v.inner] = e;
        }
        if (log) {
          const T lse = mx + std::log(s);
          for (std::int64_t j = 0; j < v.n; ++j) yb[j * v.inner] = xb[j * v.inner] - lse;
        } else {
          for (std::int64_t j = 0; j < v.n; ++j) yb[j * v.inner] /= s;
        }
      }
  });
}

void CpuBackend::softmax_backward(const Tensor& y, const Tensor& gy, AxisView v, bool log, Tensor& gx) {
  dispatch_float(y.dtype(), "softmax backward", [&]<class T>() {
    const T* py = y.host_data<T>();
    const T* pg = gy.host_data<T>();
    T* pgx = gx.host_data<T>();
    const std::int64_t total = v.outer * v.inner;
#pragma omp parallel for if (y.numel() > kParallelGrain)
    for (std::int64_t t = 0; t < total; ++t) {
      const std::int64_t o = t / v.inner, i = t % v.inner;
      const std::int64_t base = o * v.n * v.inner + i;
      T s = 0;
      if (log) {
        // gx = g - softmax * sum(g)
        for (std::int64_t j = 0; j < v.n; ++j) s += pg[base + j * v.inner];
        for (std::int64_t j = 0; j < v.n; ++j)
          pgx[base + j * v.inner] = pg[base + j * v.inner] - std::exp(py[base + j * v.inner]) * s;
      } else {
        // gx = y * (g - sum(g * y))
        for (std::int64_t j = 0; j < v.n; ++j) s += pg[base + j * v.inner] * py[base + j * v.inner];
        for (std::int64_t j = 0; j < v.n; ++j)
          pgx[base + j * v.inner] = py[base + j * v.inner] * (pg[base + j * v.inner] - s);
      }
    }
  });
}

void CpuBackend::copy_rows(const Tensor& src, std::int64_t src_stride, std::int64_t src_offset, Tensor& dst,
                           std::int64_t dst_stride, std::int64_t dst_offset, std::int64_t rows, std::int64_t len,
                           bool accumulate) {
  GLER_CHECK(src.dtype() == dst.dtype(), "copy_rows: dtype mismatch " << describe(src) << " vs " << describe(dst));
  if (!accumulate) {
    const std::size_t es = dtype_size(src.dtype());
    const char* s = static_cast<const char*>(src.raw());
    char* d = static_cast<char*>(dst.raw());
#pragma omp parallel for if (rows * len > kParallelGrain)
    for (std::int64_t r = 0; r < rows; ++r)
      std::memcpy(d + static_cast<std::size_t>(r * dst_stride + dst_offset) * es,
                  s + static_cast<std::size_t>(r * src_stride + src_offset) * es, static_cast<std::size_t>(len) * es);
    return;
  }
  dispatch_float(src.dtype(), "copy_rows", [&]<class T>() {
    const T* s = src.host_data<T>();
    T* d = dst.host_data<T>();
#pragma omp parallel for if (rows * len > kParallelGrain)
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t j = 0; j < len; ++j) d[r * dst_stride + dst_offset + j] += s[r * src_stride + src_offset + j];
  });
}

namespace {

// dst[i] = src[i·stride] for i < n, in elements of E bytes (a fixed-size memcpy is one move).
template <std::size_t E>
void strided_copy(const char* src, std::int64_t stride, std::int64_t n, char* dst) {
  for (std::int64_t i = 0; i < n; ++i) std::memcpy(dst + i * E, src + i * stride * static_cast<std::int64_t>(E), E);
}

}  // namespace

void CpuBackend::permute(const Tensor& x, const int* perm, Tensor& y) {
  int nd = x.ndim();
  // Trailing dimensions that stay in place move as one contiguous run per copy (the dense block's
  // [a, b, H·W] -> [b, a, H·W] swaps copy whole planes), so only the leading ones are indexed.
  std::int64_t run = 1;
  while (nd > 0 && perm[nd - 1] == nd - 1) run *= x.shape()[--nd];
  // Source stride (in runs) of each remaining output dimension.
  std::int64_t in_stride[Shape::kMaxDims], out_dim[Shape::kMaxDims], strides[Shape::kMaxDims];
  std::int64_t s = 1;
  for (int d = nd - 1; d >= 0; --d) {
    strides[d] = s;
    s *= x.shape()[d];
  }
  for (int d = 0; d < nd; ++d) {
    in_stride[d] = strides[perm[d]];
    out_dim[d] = y.shape()[d];
  }
  const std::size_t bytes = static_cast<std::size_t>(run) * dtype_size(x.dtype());
  const char* px = static_cast<const char*>(x.raw());
  char* py = static_cast<char*>(y.raw());
  // Output rows along the last indexed dimension, read at a fixed source stride; the index of the
  // dimensions before it advances like an odometer, so only a thread's first row divides.
  const std::int64_t inner = nd > 0 ? out_dim[nd - 1] : 1, inner_stride = nd > 0 ? in_stride[nd - 1] : 0;
  const std::int64_t rows = run > 0 && inner > 0 ? y.numel() / run / inner : 0;
#pragma omp parallel if (y.numel() > kParallelGrain)
  {
    const std::int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    const std::int64_t r0 = rows * t / threads, r1 = rows * (t + 1) / threads;
    std::int64_t idx[Shape::kMaxDims] = {}, src = 0, rem = r0;
    for (int d = nd - 2; d >= 0; --d) {
      idx[d] = rem % out_dim[d];
      rem /= out_dim[d];
      src += idx[d] * in_stride[d];
    }
    for (std::int64_t r = r0; r < r1; ++r) {
      const char* from = px + static_cast<std::size_t>(src) * bytes;
      char* to = py + static_cast<std::size_t>(r * inner) * bytes;
      switch (bytes) {
        case 4: strided_copy<4>(from, inner_stride, inner, to); break;
        case 8: strided_copy<8>(from, inner_stride, inner, to); break;
        case 2: strided_copy<2>(from, inner_stride, inner, to); break;
        default:
          for (std::int64_t i = 0; i < inner; ++i)
            std::memcpy(to + static_cast<std::size_t>(i) * bytes, from + static_cast<std::size_t>(i * inner_stride) * bytes, bytes);
      }
      for (int d = nd - 2; d >= 0; --d) {
        src += in_stride[d];
        if (++idx[d] < out_dim[d]) break;
        src -= idx[d] * in_stride[d];
        idx[d] = 0;
      }
    }
  }
}

}  // namespace gler
