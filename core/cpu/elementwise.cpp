// Fills, casts, random streams and elementwise kernels.
#include <cmath>
#include <cstdint>

#include "core/cpu/cpu_backend.h"
#include "core/elementwise_math.h"
#include "core/rng.h"
#include "core/tensor.h"

namespace gler {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr std::int64_t kParallelGrain = 1 << 15;

template <class T>
void fill_typed(Tensor& out, double value) {
  T* p = out.host_data<T>();
  const std::int64_t n = out.numel();
  const T v = convert<T>(value);
#pragma omp parallel for if (n > kParallelGrain)
  for (std::int64_t i = 0; i < n; ++i) p[i] = v;
}

template <class S, class D>
void cast_typed(const Tensor& src, Tensor& dst) {
  const S* s = src.host_data<S>();
  D* d = dst.host_data<D>();
  const std::int64_t n = src.numel();
#pragma omp parallel for if (n > kParallelGrain)
  for (std::int64_t i = 0; i < n; ++i) d[i] = convert<D>(s[i]);
}

}  // namespace

void CpuBackend::fill(Tensor& out, double value) {
  dispatch_dtype(out.dtype(), [&]<class T>() { fill_typed<T>(out, value); });
}

void CpuBackend::cast(const Tensor& src, Tensor& dst) {
  dispatch_dtype(src.dtype(), [&]<class S>() {
    dispatch_dtype(dst.dtype(), [&]<class D>() { cast_typed<S, D>(src, dst); });
  });
}

void CpuBackend::random_uniform(Tensor& out, std::uint64_t seed, std::uint64_t offset, double lo, double hi) {
  dispatch_float(out.dtype(), "random_uniform", [&]<class T>() {
    T* p = out.host_data<T>();
    const std::int64_t n = out.numel();
#pragma omp parallel for if (n > kParallelGrain)
    for (std::int64_t i = 0; i < n; ++i)
      p[i] = static_cast<T>(lo + (hi - lo) * rng::uniform_at(seed, offset, static_cast<std::uint64_t>(i)));
  });
}

void CpuBackend::random_normal(Tensor& out, std::uint64_t seed, std::uint64_t offset, double mean, double std) {
  dispatch_float(out.dtype(), "random_normal", [&]<class T>() {
    T* p = out.host_data<T>();
    const std::int64_t n = out.numel();
#pragma omp parallel for if (n > kParallelGrain)
    for (std::int64_t i = 0; i < n; ++i)
      p[i] = static_cast<T>(mean + std * rng::normal_at(seed, offset, static_cast<std::uint64_t>(i)));
  });
}

void CpuBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) {
  dispatch_float(out.dtype(), "binary op", [&]<class T>() {
    const T* pa = a.host_data<T>();
    const T* pb = b.host_data<T>();
    T* po = out.host_data<T>();
    const std::int64_t n = out.numel(), na = a.numel(), nb = b.numel();
    if (na == n && nb == n) {
#pragma omp parallel for if (n > kParallelGrain)
      for (std::int64_t i = 0; i < n; ++i) po[i] = apply_binary(op, pa[i], pb[i]);
    } else {
#pragma omp parallel for if (n > kParallelGrain)
      for (std::int64_t i = 0; i < n; ++i) po[i] = apply_binary(op, pa[i % na], pb[i % nb]);
    }
  });
}

void CpuBackend::unary(UnaryOp op, const Tensor& x, double alpha, Tensor& y) {
  dispatch_float(x.dtype(), "unary op", [&]<class T>() {
    const T* px = x.host_data<T>();
    T* py = y.host_data<T>();
    const std::int64_t n = x.numel();
    const T a = static_cast<T>(alpha);
#pragma omp parallel for if (n > kParallelGrain)
    for (std::int64_t i = 0; i < n; ++i) py[i] = apply_unary(op, px[i], a);
  });
}

void CpuBackend::unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& gy, double alpha,
                                Tensor& gx) {
  dispatch_float(x.dtype(), "unary backward", [&]<class T>() {
    const T* px = x.host_data<T>();
    const T* py = y.host_data<T>();
    const T* pg = gy.host_data<T>();
    T* pgx = gx.host_data<T>();
    const std::int64_t n = x.numel();
    const T a = static_cast<T>(alpha);
#pragma omp parallel for if (n > kParallelGrain)
    for (std::int64_t i = 0; i < n; ++i) pgx[i] = pg[i] * unary_derivative(op, px[i], py[i], a);
  });
}

void CpuBackend::sum_to_suffix(const Tensor& g, Tensor& out) {
  dispatch_float(g.dtype(), "sum_to_suffix", [&]<class T>() {
    const T* pg = g.host_data<T>();
    T* po = out.host_data<T>();
    const std::int64_t m = out.numel(), rows = g.numel() / m;
#pragma omp parallel for if (g.numel() > kParallelGrain)
    for (std::int64_t j = 0; j < m; ++j) {
      T s = 0;
      for (std::int64_t r = 0; r < rows; ++r) s += pg[r * m + j];
      po[j] = s;
    }
  });
}

}  // namespace gler
