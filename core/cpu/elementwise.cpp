// Fills, casts, random streams and elementwise kernels.
#include <cmath>
#include <cstdint>
#include <type_traits>

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

// Calls f(std::integral_constant<Op, op>{}) for the runtime op, so that each loop is compiled for
// one fixed op: the switch inside apply_unary / apply_binary folds away and the loop vectorises.
// With the switch left inside the loop, the dense blocks' ReLU passes took a quarter of a
// DenseNet-161 forward.
template <class F>
void with_unary_op(UnaryOp op, F&& f) {
  using U = UnaryOp;
  switch (op) {
#define GLER_CASE(name) \
  case U::name: return f(std::integral_constant<U, U::name>{});
    GLER_CASE(neg) GLER_CASE(exp) GLER_CASE(log) GLER_CASE(sqrt) GLER_CASE(abs) GLER_CASE(relu)
    GLER_CASE(sigmoid) GLER_CASE(tanh) GLER_CASE(scale) GLER_CASE(add_scalar) GLER_CASE(pow)
    GLER_CASE(clamp_min) GLER_CASE(leaky_relu) GLER_CASE(acos) GLER_CASE(floor) GLER_CASE(sign)
#undef GLER_CASE
  }
  GLER_FAIL("unknown unary op " << static_cast<int>(op));
}

template <class F>
void with_binary_op(BinaryOp op, F&& f) {
  using B = BinaryOp;
  switch (op) {
#define GLER_CASE(name) \
  case B::name: return f(std::integral_constant<B, B::name>{});
    GLER_CASE(add) GLER_CASE(sub) GLER_CASE(mul) GLER_CASE(div) GLER_CASE(maximum) GLER_CASE(minimum)
#undef GLER_CASE
  }
  GLER_FAIL("unknown binary op " << static_cast<int>(op));
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
    with_binary_op(op, [&](auto fixed) {
      if (na == n && nb == n) {
#pragma omp parallel for if (n > kParallelGrain)
        for (std::int64_t i = 0; i < n; ++i) po[i] = apply_binary(fixed(), pa[i], pb[i]);
      } else {
#pragma omp parallel for if (n > kParallelGrain)
        for (std::int64_t i = 0; i < n; ++i) po[i] = apply_binary(fixed(), pa[i % na], pb[i % nb]);
      }
    });
  });
}

void CpuBackend::unary(UnaryOp op, const Tensor& x, double alpha, Tensor& y) {
  dispatch_float(x.dtype(), "unary op", [&]<class T>() {
    const T* px = x.host_data<T>();
    T* py = y.host_data<T>();
    const std::int64_t n = x.numel();
    const T a = static_cast<T>(alpha);
    with_unary_op(op, [&](auto fixed) {
#pragma omp parallel for if (n > kParallelGrain)
      for (std::int64_t i = 0; i < n; ++i) py[i] = apply_unary(fixed(), px[i], a);
    });
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
    with_unary_op(op, [&](auto fixed) {
#pragma omp parallel for if (n > kParallelGrain)
      for (std::int64_t i = 0; i < n; ++i) pgx[i] = pg[i] * unary_derivative(fixed(), px[i], py[i], a);
    });
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
