// Kernels along one axis of x viewed as [outer, n, inner] (reductions, softmax, gather/scatter),
// plus sum_to_suffix, row copies and permute. Reductions combine in a fixed order, so they are
// reproducible run to run; they differ from the CPU's sequential sums only by f32 rounding.
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>
#include <string>

#include "core/tensor.h"
#include "cuda/cuda_backend.h"
#include "cuda/deferred_errors.h"
#include "cuda/device_backend.h"
#include "cuda/launch.cuh"

namespace gler::cuda {

namespace {

// Accumulators for the reduction kernels: trivial structs (they live in __shared__ memory),
// fed values in increasing j within a thread and merged across threads.
template <class T>
struct SumAcc {
  T s;
  static __device__ SumAcc empty() { return {T(0)}; }
  __device__ void push(T v, std::int64_t) { s += v; }
  __device__ void merge(const SumAcc& o) { s += o.s; }
};

// Max with the CPU's rules: a NaN wins (the first NaN), otherwise the first maximum.
template <class T>
struct MaxAcc {
  T v;
  std::int64_t j;  // -1: nothing seen yet
  static __device__ MaxAcc empty() { return {T(0), -1}; }
  __device__ bool beaten_by(T x, std::int64_t k) const {
    if (isnan(v)) return isnan(x) && k < j;
    if (isnan(x)) return true;
    return x > v || (x == v && k < j);
  }
  __device__ void push(T x, std::int64_t k) {
    if (j < 0 || beaten_by(x, k)) {
      v = x;
      j = k;
    }
  }
  __device__ void merge(const MaxAcc& o) {
    if (o.j >= 0) push(o.v, o.j);
  }
};

constexpr unsigned kMaxGrid = 1u << 16;
constexpr int kColTile = 32, kColSplit = 8;  // reduce_cols: 32 columns x 8 slices of n per block

// inner == 1: one block per row, threads stride along the contiguous row.
template <class Acc, class T, class Out>
__global__ void reduce_rows_kernel(const T* x, std::int64_t outer, std::int64_t n, Out out) {
  __shared__ Acc buf[kThreads];
  for (std::int64_t o = blockIdx.x; o < outer; o += gridDim.x) {
    Acc acc = Acc::empty();
    for (std::int64_t j = threadIdx.x; j < n; j += blockDim.x) acc.push(x[o * n + j], j);
    buf[threadIdx.x] = acc;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
      if (threadIdx.x < s) buf[threadIdx.x].merge(buf[threadIdx.x + s]);
      __syncthreads();
    }
    if (threadIdx.x == 0) out(o, buf[0]);
    __syncthreads();
  }
}

// inner > 1: a block takes 32 adjacent columns (coalesced loads) and splits n across 8 thread rows.
template <class Acc, class T, class Out>
__global__ void reduce_cols_kernel(const T* x, std::int64_t outer, std::int64_t n, std::int64_t inner, Out out) {
  __shared__ Acc buf[kColSplit][kColTile];
  const std::int64_t tiles = (inner + kColTile - 1) / kColTile;
  for (std::int64_t b = blockIdx.x; b < outer * tiles; b += gridDim.x) {
    const std::int64_t o = b / tiles, i = (b % tiles) * kColTile + threadIdx.x;
    Acc acc = Acc::empty();
    if (i < inner)
      for (std::int64_t j = threadIdx.y; j < n; j += blockDim.y) acc.push(x[(o * n + j) * inner + i], j);
    buf[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && i < inner) {
      for (unsigned y = 1; y < blockDim.y; ++y) acc.merge(buf[y][threadIdx.x]);
      out(o * inner + i, acc);
    }
    __syncthreads();
  }
}

// Reduces x as [outer, n, inner] and calls out(t, acc) for each t = o*inner + i.
template <class Acc, class T, class Out>
void reduce_axis(cudaStream_t s, const T* x, AxisView v, Out out) {
  if (v.outer * v.inner == 0) return;
  if (v.inner == 1) {
    const unsigned grid = static_cast<unsigned>(std::min<std::int64_t>(v.outer, kMaxGrid));
    reduce_rows_kernel<Acc><<<grid, kThreads, 0, s>>>(x, v.outer, v.n, out);
  } else {
    const std::int64_t blocks = v.outer * ((v.inner + kColTile - 1) / kColTile);
    const unsigned grid = static_cast<unsigned>(std::min<std::int64_t>(blocks, kMaxGrid));
    reduce_cols_kernel<Acc><<<grid, dim3(kColTile, kColSplit), 0, s>>>(x, v.outer, v.n, v.inner, out);
  }
  check_launch("reduce", s);
}

template <class T>
void reduce_typed(cudaStream_t s, ReduceOp op, const Tensor& x, AxisView v, Tensor& out, Tensor* indices) {
  const T* px = x.data<T>();
  T* po = out.data<T>();
  if (op == ReduceOp::max) {
    std::int64_t* pi = indices ? indices->data<std::int64_t>() : nullptr;
    reduce_axis<MaxAcc<T>>(s, px, v, [=] __device__(std::int64_t t, const MaxAcc<T>& a) {
      po[t] = a.v;
      if (pi) pi[t] = a.j;
    });
  } else {
    const T div = op == ReduceOp::mean ? static_cast<T>(v.n) : T(1);
    const bool mean = op == ReduceOp::mean;
    reduce_axis<SumAcc<T>>(s, px, v,
                           [=] __device__(std::int64_t t, const SumAcc<T>& a) { po[t] = mean ? a.s / div : a.s; });
  }
}

// The suffix-broadcast backward is a sum over the leading "rows" of g seen as [1, rows, m].
template <class T>
void sum_to_suffix_typed(cudaStream_t s, const Tensor& g, Tensor& out) {
  const std::int64_t m = out.numel();
  if (m == 0) return;
  T* po = out.data<T>();
  reduce_axis<SumAcc<T>>(s, g.data<T>(), AxisView{1, g.numel() / m, m},
                         [=] __device__(std::int64_t t, const SumAcc<T>& a) { po[t] = a.s; });
}

template <class T>
void broadcast_axis_typed(cudaStream_t s, const Tensor& g, AxisView v, double scale, Tensor& out) {
  const T* pg = g.data<T>();
  T* po = out.data<T>();
  const T sc = static_cast<T>(scale);
  const std::int64_t block = v.n * v.inner, inner = v.inner;
  for_each(s, out.numel(), "broadcast_axis", [=] __device__(std::int64_t t) {
    const std::int64_t o = t / block, i = t % inner;
    po[t] = sc * pg[o * inner + i];
  });
}

template <class T>
__device__ T neg_infinity() {
  return -static_cast<T>(INFINITY);
}

// Softmax along contiguous rows (inner == 1, the common case): one block per row.
template <class T>
__global__ void softmax_rows_kernel(const T* x, T* y, std::int64_t outer, std::int64_t n, bool log) {
  auto larger = [] __device__(T a, T b) { return b > a ? b : a; };  // NaN never wins, as on the CPU
  for (std::int64_t o = blockIdx.x; o < outer; o += gridDim.x) {
    const T* xr = x + o * n;
    T* yr = y + o * n;
    T mx = neg_infinity<T>();
    for (std::int64_t j = threadIdx.x; j < n; j += blockDim.x) mx = larger(mx, xr[j]);
    mx = block_reduce(mx, larger);
    T sum = 0;
    for (std::int64_t j = threadIdx.x; j < n; j += blockDim.x) sum += exp(xr[j] - mx);
    sum = block_reduce(sum, SumOp{});
    if (log) {
      const T lse = mx + ::log(sum);
      for (std::int64_t j = threadIdx.x; j < n; j += blockDim.x) yr[j] = xr[j] - lse;
    } else {
      for (std::int64_t j = threadIdx.x; j < n; j += blockDim.x) yr[j] = exp(xr[j] - mx) / sum;
    }
  }
}

template <class T>
__global__ void softmax_backward_rows_kernel(const T* y, const T* g, T* gx, std::int64_t outer, std::int64_t n,
                                             bool log) {
  for (std::int64_t o = blockIdx.x; o < outer; o += gridDim.x) {
    const T* yr = y + o * n;
    const T* gr = g + o * n;
    T* gxr = gx + o * n;
    T s = 0;
    for (std::int64_t j = threadIdx.x; j < n; j += blockDim.x) s += log ? gr[j] : gr[j] * yr[j];
    s = block_reduce(s, SumOp{});
    for (std::int64_t j = threadIdx.x; j < n; j += blockDim.x)
      gxr[j] = log ? gr[j] - exp(yr[j]) * s : yr[j] * (gr[j] - s);
  }
}

template <class T>
void softmax_typed(cudaStream_t s, const Tensor& x, AxisView v, bool log, Tensor& y) {
  const T* px = x.data<T>();
  T* py = y.data<T>();
  if (v.inner == 1) {
    if (v.outer == 0) return;
    softmax_rows_kernel<<<static_cast<unsigned>(std::min<std::int64_t>(v.outer, kMaxGrid)), kThreads, 0, s>>>(
        px, py, v.outer, v.n, log);
    check_launch("softmax", s);
    return;
  }
  // Strided axis: one thread per (o, i), reading the column three times.
  for_each(s, v.outer * v.inner, "softmax (strided)", [=] __device__(std::int64_t t) {
    const std::int64_t o = t / v.inner, i = t % v.inner;
    const T* xb = px + o * v.n * v.inner + i;
    T* yb = py + o * v.n * v.inner + i;
    T mx = neg_infinity<T>();
    for (std::int64_t j = 0; j < v.n; ++j) mx = xb[j * v.inner] > mx ? xb[j * v.inner] : mx;
    T sum = 0;
    for (std::int64_t j = 0; j < v.n; ++j) sum += exp(xb[j * v.inner] - mx);
    if (log) {
      const T lse = mx + ::log(sum);
      for (std::int64_t j = 0; j < v.n; ++j) yb[j * v.inner] = xb[j * v.inner] - lse;
    } else {
      for (std::int64_t j = 0; j < v.n; ++j) yb[j * v.inner] = exp(xb[j * v.inner] - mx) / sum;
    }
  });
}

template <class T>
void softmax_backward_typed(cudaStream_t s, const Tensor& y, const Tensor& gy, AxisView v, bool log, Tensor& gx) {
  const T* py = y.data<T>();
  const T* pg = gy.data<T>();
  T* pgx = gx.data<T>();
  if (v.inner == 1) {
    if (v.outer == 0) return;
    softmax_backward_rows_kernel<<<static_cast<unsigned>(std::min<std::int64_t>(v.outer, kMaxGrid)), kThreads, 0,
                                   s>>>(py, pg, pgx, v.outer, v.n, log);
    check_launch("softmax backward", s);
    return;
  }
  for_each(s, v.outer * v.inner, "softmax backward (strided)", [=] __device__(std::int64_t t) {
    const std::int64_t o = t / v.inner, i = t % v.inner;
    const std::int64_t base = o * v.n * v.inner + i;
    T sum = 0;
    for (std::int64_t j = 0; j < v.n; ++j) {
      const std::int64_t k = base + j * v.inner;
      sum += log ? pg[k] : pg[k] * py[k];
    }
    for (std::int64_t j = 0; j < v.n; ++j) {
      const std::int64_t k = base + j * v.inner;
      pgx[k] = log ? pg[k] - exp(py[k]) * sum : py[k] * (pg[k] - sum);
    }
  });
}

// gather/scatter cannot throw from the device: an out-of-range index sets *bad (a deferred error,
// cuda/deferred_errors.h) and is skipped.
template <class T>
void gather_typed(cudaStream_t s, int* bad, const Tensor& x, const Tensor& idx, AxisView v, Tensor& out) {
  const T* px = x.data<T>();
  const std::int64_t* pi = idx.data<std::int64_t>();
  T* po = out.data<T>();
  for_each(s, v.outer * v.inner, "gather", [=] __device__(std::int64_t t) {
    const std::int64_t o = t / v.inner, i = t % v.inner, j = pi[t];
    if (j < 0 || j >= v.n) {
      *bad = 1;
      return;
    }
    po[t] = px[(o * v.n + j) * v.inner + i];
  });
}

template <class T>
void scatter_add_typed(cudaStream_t s, int* bad, const Tensor& g, const Tensor& idx, AxisView v, Tensor& out) {
  const T* pg = g.data<T>();
  const std::int64_t* pi = idx.data<std::int64_t>();
  T* po = out.data<T>();
  for_each(s, v.outer * v.inner, "scatter_add", [=] __device__(std::int64_t t) {
    const std::int64_t o = t / v.inner, i = t % v.inner, j = pi[t];
    if (j < 0 || j >= v.n) {
      *bad = 1;
      return;
    }
    // Slot (o, idx[o, i], i) belongs to thread t = (o, i) alone, so a plain add is race-free.
    po[(o * v.n + j) * v.inner + i] += pg[t];
  });
}

// Rows copied as raw words of the element size (any dtype); accumulation needs a float type.
template <class U>
void copy_rows_raw(cudaStream_t s, const void* src, std::int64_t src_stride, std::int64_t src_offset, void* dst,
                   std::int64_t dst_stride, std::int64_t dst_offset, std::int64_t rows, std::int64_t len) {
  const U* ps = static_cast<const U*>(src);
  U* pd = static_cast<U*>(dst);
  for_each(s, rows * len, "copy_rows", [=] __device__(std::int64_t t) {
    const std::int64_t r = t / len, j = t % len;
    pd[r * dst_stride + dst_offset + j] = ps[r * src_stride + src_offset + j];
  });
}

template <class T>
void copy_rows_accumulate(cudaStream_t s, const Tensor& src, std::int64_t src_stride, std::int64_t src_offset,
                          Tensor& dst, std::int64_t dst_stride, std::int64_t dst_offset, std::int64_t rows,
                          std::int64_t len) {
  const T* ps = src.data<T>();
  T* pd = dst.data<T>();
  for_each(s, rows * len, "copy_rows (accumulate)", [=] __device__(std::int64_t t) {
    const std::int64_t r = t / len, j = t % len;
    pd[r * dst_stride + dst_offset + j] += ps[r * src_stride + src_offset + j];
  });
}

struct PermuteGeometry {
  int nd;
  std::int64_t out_dim[Shape::kMaxDims];
  std::int64_t in_stride[Shape::kMaxDims];  // source stride of each output dimension
};

template <class U>
void permute_raw(cudaStream_t s, const void* x, void* y, std::int64_t n, PermuteGeometry geo) {
  const U* px = static_cast<const U*>(x);
  U* py = static_cast<U*>(y);
  for_each(s, n, "permute", [=] __device__(std::int64_t t) {
    std::int64_t rem = t, src = 0;
    for (int d = geo.nd - 1; d >= 0; --d) {
      src += (rem % geo.out_dim[d]) * geo.in_stride[d];
      rem /= geo.out_dim[d];
    }
    py[t] = px[src];
  });
}

}  // namespace

void CudaBackend::reduce(ReduceOp op, const Tensor& x, AxisView v, Tensor& out, Tensor* indices) {
  const DeviceScope scope = on_device();
  dispatch_float(x.dtype(), "reduce", [&]<class T>() { reduce_typed<T>(stream(), op, x, v, out, indices); });
}

void CudaBackend::sum_to_suffix(const Tensor& g, Tensor& out) {
  const DeviceScope scope = on_device();
  dispatch_float(g.dtype(), "sum_to_suffix", [&]<class T>() { sum_to_suffix_typed<T>(stream(), g, out); });
}

void CudaBackend::broadcast_axis(const Tensor& g, AxisView v, double scale, Tensor& out) {
  const DeviceScope scope = on_device();
  dispatch_float(g.dtype(), "broadcast_axis", [&]<class T>() { broadcast_axis_typed<T>(stream(), g, v, scale, out); });
}

void CudaBackend::gather_axis(const Tensor& x, const Tensor& idx, AxisView v, Tensor& out) {
  const DeviceScope scope = on_device();
  int* bad = deferred_flag(ordinal(), DeferredCheck::gather_index);
  dispatch_float(x.dtype(), "gather", [&]<class T>() { gather_typed<T>(stream(), bad, x, idx, v, out); });
  check_eagerly(ordinal(), stream(), DeferredCheck::gather_index, v.n);
}

void CudaBackend::scatter_add_axis(const Tensor& g, const Tensor& idx, AxisView v, Tensor& out) {
  const DeviceScope scope = on_device();
  int* bad = deferred_flag(ordinal(), DeferredCheck::scatter_add_index);
  dispatch_float(g.dtype(), "scatter_add", [&]<class T>() { scatter_add_typed<T>(stream(), bad, g, idx, v, out); });
  check_eagerly(ordinal(), stream(), DeferredCheck::scatter_add_index, v.n);
}

void CudaBackend::softmax(const Tensor& x, AxisView v, bool log, Tensor& y) {
  const DeviceScope scope = on_device();
  dispatch_float(x.dtype(), "softmax", [&]<class T>() { softmax_typed<T>(stream(), x, v, log, y); });
}

void CudaBackend::softmax_backward(const Tensor& y, const Tensor& gy, AxisView v, bool log, Tensor& gx) {
  const DeviceScope scope = on_device();
  dispatch_float(y.dtype(), "softmax backward",
                 [&]<class T>() { softmax_backward_typed<T>(stream(), y, gy, v, log, gx); });
}

void CudaBackend::copy_rows(const Tensor& src, std::int64_t src_stride, std::int64_t src_offset, Tensor& dst,
                            std::int64_t dst_stride, std::int64_t dst_offset, std::int64_t rows, std::int64_t len,
                            bool accumulate) {
  const DeviceScope scope = on_device();
  GLER_CHECK(src.dtype() == dst.dtype(), "copy_rows: dtype mismatch " << describe(src) << " vs " << describe(dst));
  if (accumulate) {
    dispatch_float(src.dtype(), "copy_rows", [&]<class T>() {
      copy_rows_accumulate<T>(stream(), src, src_stride, src_offset, dst, dst_stride, dst_offset, rows, len);
    });
    return;
  }
  switch (dtype_size(src.dtype())) {
    case 1:
      return copy_rows_raw<std::uint8_t>(stream(), src.raw(), src_stride, src_offset, dst.raw(), dst_stride,
                                         dst_offset, rows, len);
    case 4:
      return copy_rows_raw<std::uint32_t>(stream(), src.raw(), src_stride, src_offset, dst.raw(), dst_stride,
                                          dst_offset, rows, len);
    case 8:
      return copy_rows_raw<std::uint64_t>(stream(), src.raw(), src_stride, src_offset, dst.raw(), dst_stride,
                                          dst_offset, rows, len);
  }
  GLER_FAIL("copy_rows: unsupported element size of " << describe(src));
}

void CudaBackend::permute(const Tensor& x, const int* perm, Tensor& y) {
  const DeviceScope scope = on_device();
  PermuteGeometry geo{};
  geo.nd = x.ndim();
  std::int64_t strides[Shape::kMaxDims];
  std::int64_t st = 1;
  for (int d = geo.nd - 1; d >= 0; --d) {
    strides[d] = st;
    st *= x.shape()[d];
  }
  for (int d = 0; d < geo.nd; ++d) {
    geo.in_stride[d] = strides[perm[d]];
    geo.out_dim[d] = y.shape()[d];
  }
  switch (dtype_size(x.dtype())) {
    case 1: return permute_raw<std::uint8_t>(stream(), x.raw(), y.raw(), y.numel(), geo);
    case 4: return permute_raw<std::uint32_t>(stream(), x.raw(), y.raw(), y.numel(), geo);
    case 8: return permute_raw<std::uint64_t>(stream(), x.raw(), y.raw(), y.numel(), geo);
  }
  GLER_FAIL("permute: unsupported element size of " << describe(x));
}

}  // namespace gler::cuda
