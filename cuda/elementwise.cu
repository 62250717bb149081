// Fills, casts, random streams and elementwise kernels: the same formulas as core/cpu/elementwise.cpp,
// written once for f32 and f64.
#include <cstdint>

#include "core/elementwise_math.h"
#include "core/rng.h"
#include "core/tensor.h"
#include "cuda/device_backend.h"
#include "cuda/launch.cuh"

namespace gler::cuda {

namespace {

template <class T>
void fill_typed(cudaStream_t s, Tensor& out, double value) {
  T* p = out.data<T>();
  const T v = convert<T>(value);  // converted on the host, exactly as the CPU does
  for_each(s, out.numel(), "fill", [=] __device__(std::int64_t i) { p[i] = v; });
}

template <class S, class D>
void cast_typed(cudaStream_t s, const Tensor& src, Tensor& dst) {
  const S* ps = src.data<S>();
  D* pd = dst.data<D>();
  for_each(s, src.numel(), "cast", [=] __device__(std::int64_t i) { pd[i] = convert<D>(ps[i]); });
}

// The random transforms use __dmul_rn/__dadd_rn: nvcc would otherwise contract a*b+c into one
// fused multiply-add, which rounds once instead of twice and breaks bit-equality with the CPU.
template <class T>
void uniform_typed(cudaStream_t s, Tensor& out, std::uint64_t seed, std::uint64_t offset, double lo, double hi) {
  T* p = out.data<T>();
  const double width = hi - lo;
  for_each(s, out.numel(), "random_uniform", [=] __device__(std::int64_t i) {
    const double u = rng::uniform_at(seed, offset, static_cast<std::uint64_t>(i));
    p[i] = static_cast<T>(__dadd_rn(lo, __dmul_rn(width, u)));
  });
}

template <class T>
void normal_typed(cudaStream_t s, Tensor& out, std::uint64_t seed, std::uint64_t offset, double mean, double std) {
  T* p = out.data<T>();
  for_each(s, out.numel(), "random_normal", [=] __device__(std::int64_t i) {
    const double z = rng::normal_at(seed, offset, static_cast<std::uint64_t>(i));
    p[i] = static_cast<T>(__dadd_rn(mean, __dmul_rn(std, z)));
  });
}

template <class T>
void binary_typed(cudaStream_t s, BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) {
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  T* po = out.data<T>();
  const std::int64_t n = out.numel(), na = a.numel(), nb = b.numel();
  if (na == n && nb == n) {
    for_each(s, n, "binary", [=] __device__(std::int64_t i) { po[i] = apply_binary(op, pa[i], pb[i]); });
  } else {
    for_each(s, n, "binary (broadcast)",
             [=] __device__(std::int64_t i) { po[i] = apply_binary(op, pa[i % na], pb[i % nb]); });
  }
}

template <class T>
void unary_typed(cudaStream_t s, UnaryOp op, const Tensor& x, double alpha, Tensor& y) {
  const T* px = x.data<T>();
  T* py = y.data<T>();
  const T a = static_cast<T>(alpha);
  for_each(s, x.numel(), "unary", [=] __device__(std::int64_t i) { py[i] = apply_unary(op, px[i], a); });
}

template <class T>
void unary_backward_typed(cudaStream_t s, UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& gy,
                          double alpha, Tensor& gx) {
  const T* px = x.data<T>();
  const T* py = y.data<T>();
  const T* pg = gy.data<T>();
  T* pgx = gx.data<T>();
  const T a = static_cast<T>(alpha);
  for_each(s, x.numel(), "unary backward",
           [=] __device__(std::int64_t i) { pgx[i] = pg[i] * unary_derivative(op, px[i], py[i], a); });
}

}  // namespace

void CudaBackend::fill(Tensor& out, double value) {
  const DeviceScope scope = on_device();
  dispatch_dtype(out.dtype(), [&]<class T>() { fill_typed<T>(stream(), out, value); });
}

void CudaBackend::cast(const Tensor& src, Tensor& dst) {
  const DeviceScope scope = on_device();
  dispatch_dtype(src.dtype(), [&]<class S>() {
    dispatch_dtype(dst.dtype(), [&]<class D>() { cast_typed<S, D>(stream(), src, dst); });
  });
}

void CudaBackend::random_uniform(Tensor& out, std::uint64_t seed, std::uint64_t offset, double lo, double hi) {
  const DeviceScope scope = on_device();
  dispatch_float(out.dtype(), "random_uniform",
                 [&]<class T>() { uniform_typed<T>(stream(), out, seed, offset, lo, hi); });
}

void CudaBackend::random_normal(Tensor& out, std::uint64_t seed, std::uint64_t offset, double mean, double std) {
  const DeviceScope scope = on_device();
  dispatch_float(out.dtype(), "random_normal",
                 [&]<class T>() { normal_typed<T>(stream(), out, seed, offset, mean, std); });
}

void CudaBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) {
  const DeviceScope scope = on_device();
  dispatch_float(out.dtype(), "binary op", [&]<class T>() { binary_typed<T>(stream(), op, a, b, out); });
}

void CudaBackend::unary(UnaryOp op, const Tensor& x, double alpha, Tensor& y) {
  const DeviceScope scope = on_device();
  dispatch_float(x.dtype(), "unary op", [&]<class T>() { unary_typed<T>(stream(), op, x, alpha, y); });
}

void CudaBackend::unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& gy, double alpha,
                                 Tensor& gx) {
  const DeviceScope scope = on_device();
  dispatch_float(x.dtype(), "unary backward",
                 [&]<class T>() { unary_backward_typed<T>(stream(), op, x, y, gy, alpha, gx); });
}

}  // namespace gler::cuda
