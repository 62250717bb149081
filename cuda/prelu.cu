// PReLU over x as [N, C, S] with one slope per channel (slope [C]) or one shared slope ([1]).
// The slope gradient is accumulated in double, as on the CPU.
#include <cstdint>

#include "core/tensor.h"
#include "cuda/device_backend.h"
#include "cuda/launch.cuh"

namespace gler::cuda {

namespace {

// x as [N, C, S] with channels on dim 1; a 0-d or 1-d x is one channel (PyTorch's rule, as on the CPU).
struct PreluGeometry {
  std::int64_t n, c, s;
};

PreluGeometry geometry_of(const Tensor& x) {
  if (x.ndim() < 2) return {x.numel(), 1, 1};
  const std::int64_t n = x.size(0), c = x.size(1);
  return {n, c, n * c > 0 ? x.numel() / (n * c) : 0};
}

// gslope[c] = sum over channel c of (x > 0 ? 0 : x * gy): one block per channel.
template <class T>
__global__ void prelu_slope_grad_kernel(const T* x, const T* gy, T* gslope, PreluGeometry g) {
  const std::int64_t count = g.n * g.s;
  for (std::int64_t ch = blockIdx.x; ch < g.c; ch += gridDim.x) {
    double sum = 0;
    for (std::int64_t m = threadIdx.x; m < count; m += blockDim.x) {
      const std::int64_t b = m / g.s, i = (b * g.c + ch) * g.s + (m - b * g.s);
      if (!(x[i] > T(0))) sum += static_cast<double>(x[i]) * static_cast<double>(gy[i]);
    }
    sum = block_reduce(sum, SumOp{});
    if (threadIdx.x == 0) gslope[ch] = static_cast<T>(sum);
  }
}

template <class T>
void forward_typed(cudaStream_t st, const Tensor& x, const Tensor& slope, Tensor& y) {
  const PreluGeometry g = geometry_of(x);
  const bool shared = slope.numel() == 1;
  const T* px = x.data<T>();
  const T* pa = slope.data<T>();
  T* py = y.data<T>();
  for_each(st, x.numel(), "prelu", [=] __device__(std::int64_t i) {
    const T v = px[i];
    py[i] = v > T(0) ? v : pa[shared ? 0 : (i / g.s) % g.c] * v;
  });
}

template <class T>
void backward_typed(cudaStream_t st, const Tensor& x, const Tensor& slope, const Tensor& gy, Tensor& gx,
                    Tensor* gslope) {
  const PreluGeometry g = geometry_of(x);
  const bool shared = slope.numel() == 1;
  const T* px = x.data<T>();
  const T* pa = slope.data<T>();
  const T* pg = gy.data<T>();
  T* pgx = gx.data<T>();
  for_each(st, x.numel(), "prelu backward", [=] __device__(std::int64_t i) {
    pgx[i] = px[i] > T(0) ? pg[i] : pa[shared ? 0 : (i / g.s) % g.c] * pg[i];
  });
  if (gslope) {
    // A shared slope sums over the whole tensor: one "channel" of every element.
    const PreluGeometry sg = shared ? PreluGeometry{1, 1, x.numel()} : g;
    prelu_slope_grad_kernel<<<static_cast<unsigned>(std::min<std::int64_t>(sg.c, 1 << 16)), kThreads, 0, st>>>(
        px, pg, gslope->data<T>(), sg);
    check_launch("prelu slope gradient", st);
  }
}

}  // namespace

void CudaBackend::prelu_forward(const Tensor& x, const Tensor& slope, Tensor& y) {
  const DeviceScope scope = on_device();
  dispatch_float(x.dtype(), "prelu", [&]<class T>() { forward_typed<T>(stream(), x, slope, y); });
}

void CudaBackend::prelu_backward(const Tensor& x, const Tensor& slope, const Tensor& gy, Tensor& gx, Tensor* gslope) {
  const DeviceScope scope = on_device();
  dispatch_float(x.dtype(), "prelu backward", [&]<class T>() { backward_typed<T>(stream(), x, slope, gy, gx, gslope); });
}

}  // namespace gler::cuda
