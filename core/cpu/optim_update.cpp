// The optimiser-update kernel: a fused multiply-add, as PyTorch's add-with-alpha and addcmul round.
#include <cmath>
#include <cstdint>

#include "core/cpu/cpu_backend.h"
#include "core/tensor.h"

namespace gler {

namespace {

constexpr std::int64_t kParallelGrain = 1 << 15;

// The build targets x86-64-v2, which has no FMA instruction: std::fma there is a libm call. A clone
// for FMA machines, chosen at load time, vectorises it; both compute the exact fused result.
template <class T>
void fma_loop(const T* a, const T* b, T alpha, const T* c, T* out, std::int64_t n) {
  if (b) {
#pragma omp parallel for if (n > kParallelGrain)
    for (std::int64_t i = 0; i < n; ++i) out[i] = std::fma(a[i], b[i], c[i]);
  } else {
#pragma omp parallel for if (n > kParallelGrain)
    for (std::int64_t i = 0; i < n; ++i) out[i] = std::fma(a[i], alpha, c[i]);
  }
}

[[gnu::target_clones("arch=haswell", "default")]] void fma_f32(const float* a, const float* b, float alpha,
                                                               const float* c, float* out, std::int64_t n) {
  fma_loop(a, b, alpha, c, out, n);
}
[[gnu::target_clones("arch=haswell", "default")]] void fma_f64(const double* a, const double* b, double alpha,
                                                               const double* c, double* out, std::int64_t n) {
  fma_loop(a, b, alpha, c, out, n);
}

}  // namespace

void CpuBackend::fused_multiply_add(const Tensor& a, const Tensor* b, double alpha, const Tensor& c, Tensor& out) {
  const char* op = "fused_multiply_add";
  GLER_CHECK(is_floating(out.dtype()), op << ": out is " << describe(out) << ", expected f32 or f64");
  check_operand(out, op, "out", Device::CPU, out.dtype());
  check_operand(a, op, "a", Device::CPU, out.dtype());
  check_operand(c, op, "c", Device::CPU, out.dtype());
  if (b) check_operand(*b, op, "b", Device::CPU, out.dtype());
  const std::int64_t n = out.numel();
  GLER_CHECK(a.numel() == n && c.numel() == n && (!b || b->numel() == n),
             op << ": operands " << describe(a) << ", " << (b ? describe(*b) : std::string("alpha")) << ", "
                << describe(c) << " do not match out " << describe(out));
  if (out.dtype() == DType::f32)
    fma_f32(a.host_data<float>(), b ? b->host_data<float>() : nullptr, static_cast<float>(alpha), c.host_data<float>(),
            out.host_data<float>(), n);
  else
    fma_f64(a.host_data<double>(), b ? b->host_data<double>() : nullptr, alpha, c.host_data<double>(),
            out.host_data<double>(), n);
}

}  // namespace gler
