// Kernel-side helpers shared by the .cu files: a grid-stride for_each over a device lambda and
// deterministic block reductions. Included by .cu files only.
#pragma once
#include <algorithm>
#include <cstdint>

#include "cuda/check.h"

namespace gler::cuda {

constexpr int kThreads = 256;

// Enough blocks to cover n once, capped so huge tensors loop instead of launching millions of blocks.
inline unsigned grid_for(std::int64_t n) {
  return static_cast<unsigned>(std::clamp<std::int64_t>((n + kThreads - 1) / kThreads, 1, std::int64_t{1} << 16));
}

template <class F>
__global__ void for_each_kernel(std::int64_t n, F f) {
  const std::int64_t step = static_cast<std::int64_t>(blockDim.x) * gridDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) f(i);
}

// f(i) for i in [0, n) on `stream`; f is a __device__ lambda capturing by value.
template <class F>
void for_each(cudaStream_t stream, std::int64_t n, const char* what, F f) {
  if (n <= 0) return;
  for_each_kernel<<<grid_for(n), kThreads, 0, stream>>>(n, f);
  check_launch(what, stream);
}

// A value-and-operation pair for reductions: Sum adds, Max keeps the larger (NaN wins).
struct SumOp {
  template <class T>
  __device__ T operator()(T a, T b) const { return a + b; }
};
struct MaxOp {
  template <class T>
  __device__ T operator()(T a, T b) const { return (a > b || isnan(a)) ? a : b; }
};

// Reduces one value per thread over the whole block and returns the result to every thread.
// The order of combination is fixed by the block shape, so results are reproducible run to run.
// blockDim.x must be a multiple of 32 and at most 1024.
template <class T, class Op>
__device__ T block_reduce(T v, Op op) {
  __shared__ T partial[32];
  for (int offset = 16; offset > 0; offset >>= 1) v = op(v, __shfl_down_sync(0xffffffffu, v, offset));
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  __syncthreads();  // an earlier call's readers are done with `partial`
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  T r = partial[0];
  for (int w = 1; w < warps; ++w) r = op(r, partial[w]);
  return r;
}

}  // namespace gler::cuda
