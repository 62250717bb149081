// Softmax over the first counts[b] entries of each row of scores [B, F]; every other entry, and
// every entry of a row with count 0, gets weight exactly 0 (never NaN). The counts stay on the
// device: one outside [0, F] is clamped and raised as a deferred error (cuda/deferred_errors.h),
// so the layer need not copy them back to validate them.
#include <cstdint>

#include "core/tensor.h"
#include "cuda/deferred_errors.h"
#include "cuda/device_backend.h"
#include "cuda/launch.cuh"

namespace gler::cuda {

namespace {

// Rows are short (faces per image): two warps per row.
constexpr int kRowThreads = 64;

template <class T>
__global__ void masked_softmax_kernel(const T* scores, const std::int64_t* counts, T* weights, std::int64_t rows,
                                      std::int64_t f, int* bad_count) {
  auto larger = [] __device__(T a, T b) { return b > a ? b : a; };
  for (std::int64_t b = blockIdx.x; b < rows; b += gridDim.x) {
    const T* s = scores + b * f;
    T* w = weights + b * f;
    const std::int64_t count = counts[b];
    if (threadIdx.x == 0 && (count < 0 || count > f)) *bad_count = 1;
    const std::int64_t n = max(std::int64_t{0}, min(count, f));
    T mx = -static_cast<T>(INFINITY);
    for (std::int64_t j = threadIdx.x; j < n; j += blockDim.x) mx = larger(mx, s[j]);
    mx = block_reduce(mx, larger);
    T sum = 0;
    for (std::int64_t j = threadIdx.x; j < n; j += blockDim.x) sum += exp(s[j] - mx);
    sum = block_reduce(sum, SumOp{});
    for (std::int64_t j = threadIdx.x; j < f; j += blockDim.x) w[j] = j < n ? exp(s[j] - mx) / sum : T(0);
  }
}

// gs = w * (gw - sum(w * gw)); entries with weight 0 get exactly 0.
template <class T>
__global__ void masked_softmax_backward_kernel(const T* weights, const T* gw, T* gs, std::int64_t rows, std::int64_t f) {
  for (std::int64_t b = blockIdx.x; b < rows; b += gridDim.x) {
    const T* w = weights + b * f;
    const T* g = gw + b * f;
    T dot = 0;
    for (std::int64_t j = threadIdx.x; j < f; j += blockDim.x)
      if (w[j] != T(0)) dot += w[j] * g[j];
    dot = block_reduce(dot, SumOp{});
    for (std::int64_t j = threadIdx.x; j < f; j += blockDim.x) gs[b * f + j] = w[j] != T(0) ? w[j] * (g[j] - dot) : T(0);
  }
}

unsigned row_grid(std::int64_t rows) { return static_cast<unsigned>(std::min<std::int64_t>(rows, 1 << 16)); }

template <class T>
void forward_typed(cudaStream_t s, const Tensor& scores, const Tensor& counts, Tensor& weights, int* bad_count) {
  const std::int64_t rows = scores.size(0), f = scores.size(1);
  if (rows == 0) return;
  masked_softmax_kernel<<<row_grid(rows), kRowThreads, 0, s>>>(scores.data<T>(), counts.data<std::int64_t>(),
                                                               weights.data<T>(), rows, f, bad_count);
  check_launch("masked_softmax", s);
}

template <class T>
void backward_typed(cudaStream_t s, const Tensor& weights, const Tensor& gw, Tensor& gscores) {
  const std::int64_t rows = weights.size(0), f = weights.numel() / std::max<std::int64_t>(rows, 1);
  if (rows == 0) return;
  masked_softmax_backward_kernel<<<row_grid(rows), kRowThreads, 0, s>>>(weights.data<T>(), gw.data<T>(),
                                                                        gscores.data<T>(), rows, f);
  check_launch("masked_softmax backward", s);
}

}  // namespace

void CudaBackend::masked_softmax(const Tensor& scores, const Tensor& counts, Tensor& weights) {
  const DeviceScope scope = on_device();
  GLER_CHECK(scores.ndim() == 2, "masked_softmax: expected scores [B, F], got " << describe(scores));
  int* bad_count = deferred_flag(ordinal(), DeferredCheck::masked_softmax_count);
  dispatch_float(scores.dtype(), "masked_softmax",
                 [&]<class T>() { forward_typed<T>(stream(), scores, counts, weights, bad_count); });
  check_eagerly(ordinal(), stream(), DeferredCheck::masked_softmax_count, scores.size(1));
}

void CudaBackend::masked_softmax_backward(const Tensor& weights, const Tensor& gw, Tensor& gscores) {
  const DeviceScope scope = on_device();
  dispatch_float(weights.dtype(), "masked_softmax backward",
                 [&]<class T>() { backward_typed<T>(stream(), weights, gw, gscores); });
}

}  // namespace gler::cuda
