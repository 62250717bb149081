// Helpers for the GPU-vs-CPU parity tests: deterministic CPU inputs, copies onto a device and
// comparisons (bit-exact, or relative with an absolute floor for values near zero).
#pragma once
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/tensor.h"

namespace gler::test {

// f32: 1e-4 relative; f64: 1e-10.
double tolerance(DType t);

// Uniform values in [lo, hi) drawn on the CPU from a fixed seed.
Tensor random_cpu(const Shape& shape, DType dtype, std::uint64_t seed, double lo = -1.0, double hi = 1.0);
// A fresh copy of t on `device` (a new tensor also on the CPU, so kernels may write into it).
Tensor on(const Tensor& t, Device device);

// Empty string when equal; otherwise the first mismatch, for CHECK_MESSAGE.
// exact: every byte equal. Otherwise |gpu - cpu| <= rtol * max(1, |cpu|) and NaN where the CPU has NaN.
std::string compare(const Tensor& gpu, const Tensor& cpu, bool exact, double rtol);

// Whether an Error says the CPU kernel is still pending (the layer kernels land separately).
bool is_not_implemented(const std::exception& e);

}  // namespace gler::test
