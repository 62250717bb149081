// The scalar formulas of the elementwise ops and their derivatives, shared by the CPU kernels
// and the CUDA kernels so both backends compute the same function by construction.
#pragma once
#include <cmath>

#include "core/backend.h"
#include "core/rng.h"  // GLER_HD

// std:: overloads on the host (float stays float); CUDA's global overloads in device code.
#if defined(__CUDA_ARCH__)
#define GLER_MATH(f) ::f
#else
#define GLER_MATH(f) std::f
#endif

namespace gler {

template <class T>
GLER_HD inline T apply_binary(BinaryOp op, T a, T b) {
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
GLER_HD inline T apply_unary(UnaryOp op, T x, T alpha) {
  switch (op) {
    case UnaryOp::neg: return -x;
    case UnaryOp::exp: return GLER_MATH(exp)(x);
    case UnaryOp::log: return GLER_MATH(log)(x);
    case UnaryOp::sqrt: return GLER_MATH(sqrt)(x);
    case UnaryOp::abs: return GLER_MATH(fabs)(x);
    case UnaryOp::relu: return x > T(0) ? x : T(0);
    case UnaryOp::sigmoid: return T(1) / (T(1) + GLER_MATH(exp)(-x));
    case UnaryOp::tanh: return GLER_MATH(tanh)(x);
    case UnaryOp::scale: return alpha * x;
    case UnaryOp::add_scalar: return x + alpha;
    case UnaryOp::pow: return GLER_MATH(pow)(x, alpha);
    case UnaryOp::clamp_min: return x < alpha ? alpha : x;
    case UnaryOp::leaky_relu: return x > T(0) ? x : alpha * x;
    case UnaryOp::acos: return GLER_MATH(acos)(x);
    case UnaryOp::floor: return GLER_MATH(floor)(x);
    case UnaryOp::sign: return T((x > T(0)) - (x < T(0)));
  }
  return T(0);
}

// dy/dx given x and y = f(x).
template <class T>
GLER_HD inline T unary_derivative(UnaryOp op, T x, T y, T alpha) {
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
    case UnaryOp::pow: return alpha * GLER_MATH(pow)(x, alpha - T(1));
    case UnaryOp::clamp_min: return x < alpha ? T(0) : T(1);  // PyTorch: gradient passes at x == lo
    case UnaryOp::leaky_relu: return x > T(0) ? T(1) : alpha;
    case UnaryOp::acos:
    case UnaryOp::floor:
    case UnaryOp::sign: return T(0);
  }
  return T(0);
}

}  // namespace gler
