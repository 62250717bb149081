// Helpers for the GPU-vs-CPU parity tests: deterministic CPU inputs, copies onto a device and
// comparisons (bit-exact, or relative to the tensor's scale as the CPU parity tests measure).
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

// Empty string when equal; otherwise what differs, for CHECK_MESSAGE.
// exact: every byte equal. Otherwise test::max_rel_diff(gpu, cpu) <= rtol (tests/support/torch_ref.h:
// relative error, entries below 1e-2 of max|cpu| measured against that) and NaN exactly where the
// CPU has NaN.
std::string compare(const Tensor& gpu, const Tensor& cpu, bool exact, double rtol);

}  // namespace gler::test
