// Fills, casts, random streams and elementwise kernels: the same formulas as core/cpu/elementwise.cpp,
// written once for f32 and f64.
#include <cstdint>

#include "core/rng.h"
#include "core/tensor.h"
#include "cuda/device_backend.h"
#include "cuda/launch.cuh"

namespace gler::cuda {

namespace {

template <class T>
void fill_typed(cudaStream_t s, Tensor& out, double value) {
  T* p = out.data<T>();
  const T v = static_cast<T>(value);  // converted on the host, exactly as the CPU does
  for_each(s, out.numel(), "fill", [=] __device__(std::int64_t i) { p[i] = v; });
}

template <class S, class D>
void cast_typed(cudaStream_t s, const Tensor& src, Tensor& dst) {
  const S* ps = src.data<S>();
  D* pd = dst.data<D>();
  for_each(s, src.numel(), "cast", [=] __device__(std::int64_t i) { pd[i] = static_cast<D>(ps[i]); });
}

template <class S>
void cast_from(cudaStream_t s, const Tensor& src, Tensor& dst) {
  switch (dst.dtype()) {
    case DType::f32: return cast_typed<S, float>(s, src, dst);
    case DType::f64: return cast_typed<S, double>(s, src, dst);
    case DType::i64: return cast_typed<S, std::int64_t>(s, src, dst);
    case DType::u8: return cast_typed<S, std::uint8_t>(s, src, dst);
  }
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
__device__ T apply_binary(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::add: return a + b;
    case BinaryOp::sub: return a - b;
    case BinaryOp::mul: return a * b;
    case BinaryOp::div: return a / b;
    case BinaryOp::maximum: return a > b ? a : b;
    case BinaryOp::minimum: return a < b ? a : b;
  }
  return T(0);
}

template <class T>
__device__ T apply_unary(UnaryOp op, T x, T alpha) {
  switch (op) {
    case UnaryOp::neg: return -x;
    case UnaryOp::exp: return exp(x);
    case UnaryOp::log: return log(x);
    case UnaryOp::sqrt: return sqrt(x);
    case UnaryOp::abs: return fabs(x);
    case UnaryOp::relu: return x > T(0) ? x : T(0);
    case UnaryOp::sigmoid: return T(1) / (T(1) + exp(-x));
    case UnaryOp::tanh: return tanh(x);
    case UnaryOp::scale: return alpha * x;
    case UnaryOp::add_scalar: return x + alpha;
    case UnaryOp::pow: return pow(x, alpha);
    case UnaryOp::clamp_min: return x < alpha ? alpha : x;
    case UnaryOp::leaky_relu: return x > T(0) ? x : alpha * x;
    case UnaryOp::acos: return acos(x);
    case UnaryOp::floor: return floor(x);
    case UnaryOp::sign: return T((x > T(0)) - (x < T(0)));
  }
  return T(0);
}

// dy/dx given x and y = f(x).
template <class T>
__device__ T unary_derivative(UnaryOp op, T x, T y, T alpha) {
  switch (op) {
    case UnaryOp::neg: return T(-1);
    case UnaryOp::exp: return y;
    case UnaryOp::log: return T(1) / x;
    case UnaryOp::sqrt: return T(0.5) / y;
    case UnaryOp::abs: return T((x > T(0)) - (x < T(0)));
    case UnaryOp::relu: return x > T(0) ? T(1) : T(0);
    case UnaryOp::sigmoid: return y * (T(1) - y);
    case UnaryOp::tanh: return T(1) - y * y;
    case UnaryOp::scale: return alpha;
    case UnaryOp::add_scalar: return T(1);
    case UnaryOp::pow: return alpha * pow(x, alpha - T(1));
    case UnaryOp::clamp_min: return x < alpha ? T(0) : T(1);  // PyTorch: gradient passes at x == lo
    case UnaryOp::leaky_relu: return x > T(0) ? T(1) : alpha;
    case UnaryOp::acos:
    case UnaryOp::floor:
    case UnaryOp::sign: return T(0);
  }
  return T(0);
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
  switch (out.dtype()) {
    case DType::f32: return fill_typed<float>(stream(), out, value);
    case DType::f64: return fill_typed<double>(stream(), out, value);
    case DType::i64: return fill_typed<std::int64_t>(stream(), out, value);
    case DType::u8: return fill_typed<std::uint8_t>(stream(), out, value);
  }
}

void CudaBackend::cast(const Tensor& src, Tensor& dst) {
  switch (src.dtype()) {
    case DType::f32: return cast_from<float>(stream(), src, dst);
    case DType::f64: return cast_from<double>(stream(), src, dst);
    case DType::i64: return cast_from<std::int64_t>(stream(), src, dst);
    case DType::u8: return cast_from<std::uint8_t>(stream(), src, dst);
  }
}

void CudaBackend::random_uniform(Tensor& out, std::uint64_t seed, std::uint64_t offset, double lo, double hi) {
  dispatch_float(out.dtype(), "random_uniform",
                 [&]<class T>() { uniform_typed<T>(stream(), out, seed, offset, lo, hi); });
}

void CudaBackend::random_normal(Tensor& out, std::uint64_t seed, std::uint64_t offset, double mean, double std) {
  dispatch_float(out.dtype(), "random_normal",
                 [&]<class T>() { normal_typed<T>(stream(), out, seed, offset, mean, std); });
}

void CudaBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) {
  dispatch_float(out.dtype(), "binary op", [&]<class T>() { binary_typed<T>(stream(), op, a, b, out); });
}

void CudaBackend::unary(UnaryOp op, const Tensor& x, double alpha, Tensor& y) {
  dispatch_float(x.dtype(), "unary op", [&]<class T>() { unary_typed<T>(stream(), op, x, alpha, y); });
}

void CudaBackend::unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& gy, double alpha,
                                 Tensor& gx) {
  dispatch_float(x.dtype(), "unary backward",
                 [&]<class T>() { unary_backward_typed<T>(stream(), op, x, y, gy, alpha, gx); });
}

}  // namespace gler::cuda
