// Max and average pooling with own kernels. cuDNN pooling has no ceil_mode and no PyTorch
// divisor rule; these follow PyTorch's kernels exactly: the output size comes from the caller
// (ceil_mode only changes it), max-pool indices are flat h*W+w within each plane and a NaN wins
// (the last one), average pooling clips windows at H+pad and divides by the clipped or padded size.
// Both backwards gather (one thread per input element), so they need no atomics and are
// reproducible run to run.
#include <cstdint>

#include "core/tensor.h"
#include "cuda/device_backend.h"
#include "cuda/launch.cuh"

namespace gler::cuda {

namespace {

struct PoolGeometry {
  std::int64_t planes, h, w, p, q;  // planes = N*C; input h x w; output p x q
};

PoolGeometry geometry_of(const Tensor& x, const Tensor& y) {
  GLER_CHECK(x.ndim() == 4 && y.ndim() == 4, "pool2d: expected 4-d input and output, got " << describe(x) << " and "
                                                                                           << describe(y));
  return {x.size(0) * x.size(1), x.size(2), x.size(3), y.size(2), y.size(3)};
}

// Window of output (ph, pw) for average pooling: [h0, h1) x [w0, w1) clipped to the input, and
// the divisor of PyTorch's rule (the window clipped to the padded input, or to the input).
struct AvgWindow {
  std::int64_t h0, h1, w0, w1, divisor;
};

__device__ AvgWindow avg_window(const Pool2dArgs& a, const PoolGeometry& g, std::int64_t ph, std::int64_t pw) {
  std::int64_t h0 = ph * a.stride_h - a.pad_h, w0 = pw * a.stride_w - a.pad_w;
  std::int64_t h1 = min(h0 + a.kernel_h, g.h + a.pad_h), w1 = min(w0 + a.kernel_w, g.w + a.pad_w);
  const std::int64_t padded_size = (h1 - h0) * (w1 - w0);
  h0 = max(h0, std::int64_t{0});
  w0 = max(w0, std::int64_t{0});
  h1 = min(h1, g.h);
  w1 = min(w1, g.w);
  return {h0, h1, w0, w1, a.count_include_pad ? padded_size : (h1 - h0) * (w1 - w0)};
}

// The outputs whose window covers input row h, column w: [ph0, ph1) x [pw0, pw1), from
// ph*stride - pad <= h < ph*stride - pad + kernel (the last window may reach past the padding
// under ceil_mode; the caller's output size bounds the range).
struct Covering {
  std::int64_t ph0, ph1, pw0, pw1;
};

__device__ Covering covering(const Pool2dArgs& a, const PoolGeometry& g, std::int64_t h, std::int64_t w) {
  return {h + a.pad_h < a.kernel_h ? 0 : (h + a.pad_h - a.kernel_h) / a.stride_h + 1,
          min((h + a.pad_h) / a.stride_h + 1, g.p),
          w + a.pad_w < a.kernel_w ? 0 : (w + a.pad_w - a.kernel_w) / a.stride_w + 1,
          min((w + a.pad_w) / a.stride_w + 1, g.q)};
}

template <class T>
void max_forward_typed(cudaStream_t s, const Pool2dArgs& a, const Tensor& x, Tensor& y, Tensor& indices) {
  const PoolGeometry g = geometry_of(x, y);
  const T* px = x.data<T>();
  T* py = y.data<T>();
  std::int64_t* pi = indices.defined() ? indices.data<std::int64_t>() : nullptr;
  for_each(s, y.numel(), "max_pool2d", [=] __device__(std::int64_t t) {
    const std::int64_t plane = t / (g.p * g.q), r = t % (g.p * g.q), ph = r / g.q, pw = r % g.q;
    std::int64_t h0 = ph * a.stride_h - a.pad_h, w0 = pw * a.stride_w - a.pad_w;
    const std::int64_t h1 = min(h0 + a.kernel_h, g.h), w1 = min(w0 + a.kernel_w, g.w);
    h0 = max(h0, std::int64_t{0});
    w0 = max(w0, std::int64_t{0});
    const T* xp = px + plane * g.h * g.w;
    T best = -static_cast<T>(INFINITY);
    std::int64_t arg = h0 * g.w + w0;
    for (std::int64_t h = h0; h < h1; ++h)
      for (std::int64_t w = w0; w < w1; ++w) {
        const T v = xp[h * g.w + w];
        if (v > best || isnan(v)) {
          best = v;
          arg = h * g.w + w;
        }
      }
    py[t] = best;
    if (pi) pi[t] = arg;
  });
}

// Each input element sums the gradients of the covering windows whose argmax it is. Every
// argmax lies inside its window (windows are never empty: padding is at most half the kernel),
// so no contribution is missed, and the windows are visited row-major, the order in which the
// CPU scatters them: the sums are bit-identical to the CPU's.
template <class T>
void max_backward_typed(cudaStream_t s, const Pool2dArgs& a, const Tensor& gy, const Tensor& indices, Tensor& gx) {
  const PoolGeometry g = geometry_of(gx, gy);
  const T* pgy = gy.data<T>();
  const std::int64_t* pi = indices.data<std::int64_t>();
  T* pgx = gx.data<T>();
  for_each(s, gx.numel(), "max_pool2d backward", [=] __device__(std::int64_t t) {
    const std::int64_t plane = t / (g.h * g.w), r = t % (g.h * g.w);
    const Covering c = covering(a, g, r / g.w, r % g.w);
    const T* gp = pgy + plane * g.p * g.q;
    const std::int64_t* ip = pi + plane * g.p * g.q;
    T sum = 0;
    for (std::int64_t ph = c.ph0; ph < c.ph1; ++ph)
      for (std::int64_t pw = c.pw0; pw < c.pw1; ++pw)
        if (ip[ph * g.q + pw] == r) sum += gp[ph * g.q + pw];
    pgx[t] = sum;
  });
}

template <class T>
void avg_forward_typed(cudaStream_t s, const Pool2dArgs& a, const Tensor& x, Tensor& y) {
  const PoolGeometry g = geometry_of(x, y);
  const T* px = x.data<T>();
  T* py = y.data<T>();
  for_each(s, y.numel(), "avg_pool2d", [=] __device__(std::int64_t t) {
    const std::int64_t plane = t / (g.p * g.q), r = t % (g.p * g.q);
    const AvgWindow win = avg_window(a, g, r / g.q, r % g.q);
    if (win.h0 >= win.h1 || win.w0 >= win.w1) {
      py[t] = T(0);
      return;
    }
    const T* xp = px + plane * g.h * g.w;
    T sum = 0;
    for (std::int64_t h = win.h0; h < win.h1; ++h)
      for (std::int64_t w = win.w0; w < win.w1; ++w) sum += xp[h * g.w + w];
    py[t] = sum / static_cast<T>(win.divisor);
  });
}

// Each input element sums gy / divisor over the windows that cover it.
template <class T>
void avg_backward_typed(cudaStream_t s, const Pool2dArgs& a, const Tensor& gy, Tensor& gx) {
  const PoolGeometry g = geometry_of(gx, gy);
  const T* pgy = gy.data<T>();
  T* pgx = gx.data<T>();
  for_each(s, gx.numel(), "avg_pool2d backward", [=] __device__(std::int64_t t) {
    const std::int64_t plane = t / (g.h * g.w), r = t % (g.h * g.w);
    const Covering c = covering(a, g, r / g.w, r % g.w);
    const T* gp = pgy + plane * g.p * g.q;
    T sum = 0;
    for (std::int64_t ph = c.ph0; ph < c.ph1; ++ph)
      for (std::int64_t pw = c.pw0; pw < c.pw1; ++pw)
        sum += gp[ph * g.q + pw] / static_cast<T>(avg_window(a, g, ph, pw).divisor);
    pgx[t] = sum;
  });
}

}  // namespace

void CudaBackend::max_pool2d_forward(const Pool2dArgs& a, const Tensor& x, Tensor& y, Tensor& indices) {
  const DeviceScope scope = on_device();
  dispatch_float(x.dtype(), "max_pool2d", [&]<class T>() { max_forward_typed<T>(stream(), a, x, y, indices); });
}

void CudaBackend::max_pool2d_backward(const Pool2dArgs& a, const Tensor& gy, const Tensor& indices, Tensor& gx) {
  const DeviceScope scope = on_device();
  dispatch_float(gy.dtype(), "max_pool2d backward",
                 [&]<class T>() { max_backward_typed<T>(stream(), a, gy, indices, gx); });
}

void CudaBackend::avg_pool2d_forward(const Pool2dArgs& a, const Tensor& x, Tensor& y) {
  const DeviceScope scope = on_device();
  dispatch_float(x.dtype(), "avg_pool2d", [&]<class T>() { avg_forward_typed<T>(stream(), a, x, y); });
}

void CudaBackend::avg_pool2d_backward(const Pool2dArgs& a, const Tensor& gy, Tensor& gx) {
  const DeviceScope scope = on_device();
  dispatch_float(gy.dtype(), "avg_pool2d backward", [&]<class T>() { avg_backward_typed<T>(stream(), a, gy, gx); });
}

}  // namespace gler::cuda
