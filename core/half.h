// 16-bit floating storage types: IEEE binary16 (f16) and bfloat16 (bf16). They are storage
// formats: kernels compute on them in f32 (compute_dtype in core/dtype.h) and accumulate in f32 or
// wider. Conversions from float round to nearest, ties to even, bit for bit as PyTorch's
// `.half()` / `.bfloat16()` (NaN becomes PyTorch's canonical quiet NaN). Wider sources (double,
// integers) go through float first, as PyTorch's casts do. Compiled by the host compiler and nvcc.
#pragma once
#include <cstdint>
#include <cstring>

#include "core/rng.h"  // GLER_HD

namespace gler {

struct f16_t {
  std::uint16_t bits;
};
struct bf16_t {
  std::uint16_t bits;
};

GLER_HD inline std::uint32_t float_bits(float f) {
  std::uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

GLER_HD inline float float_from_bits(std::uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}

// Round-to-nearest-even of `value >> shift` (shift >= 1).
GLER_HD inline std::uint32_t shift_round_even(std::uint32_t value, int shift) {
  const std::uint32_t q = value >> shift, rem = value & ((1u << shift) - 1), half = 1u << (shift - 1);
  return q + ((rem > half || (rem == half && (q & 1u))) ? 1u : 0u);
}

GLER_HD inline f16_t f16_from_float(float f) {
  const std::uint32_t x = float_bits(f);
  const std::uint32_t sign = (x >> 16) & 0x8000u, ax = x & 0x7FFFFFFFu;
  if (ax > 0x7F800000u) return {static_cast<std::uint16_t>(sign | 0x7E00u)};  // NaN
  if (ax >= 0x477FF000u) return {static_cast<std::uint16_t>(sign | 0x7C00u)};  // >= 65520: inf
  if (ax >= 0x38800000u)  // normal half: rebias the exponent (127 -> 15), round 13 mantissa bits away
    return {static_cast<std::uint16_t>(sign | shift_round_even(ax - 0x38000000u, 13))};
  if (ax <= 0x33000000u) return {static_cast<std::uint16_t>(sign)};  // <= 2^-25: zero (the tie is even)
  // Subnormal half: value = mantissa * 2^(e - 150), in units of 2^-24 that is mantissa >> (126 - e).
  const std::uint32_t e = ax >> 23, mantissa = (ax & 0x7FFFFFu) | 0x800000u;
  return {static_cast<std::uint16_t>(sign | shift_round_even(mantissa, static_cast<int>(126 - e)))};
}

GLER_HD inline float f16_to_float(f16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h.bits & 0x8000u) << 16;
  std::uint32_t exponent = (h.bits >> 10) & 0x1Fu, mantissa = h.bits & 0x3FFu;
  if (exponent == 31) return float_from_bits(sign | 0x7F800000u | (mantissa << 13));  // inf, NaN
  if (exponent == 0) {
    if (mantissa == 0) return float_from_bits(sign);
    exponent = 127 - 15 + 1;  // subnormal: renormalise
    while (!(mantissa & 0x400u)) {
      mantissa <<= 1;
      --exponent;
    }
    return float_from_bits(sign | (exponent << 23) | ((mantissa & 0x3FFu) << 13));
  }
  return float_from_bits(sign | ((exponent + 127 - 15) << 23) | (mantissa << 13));
}

GLER_HD inline bf16_t bf16_from_float(float f) {
  const std::uint32_t x = float_bits(f);
  if ((x & 0x7FFFFFFFu) > 0x7F800000u) return {0xFFFFu};  // NaN: what PyTorch's tensor casts write
  return {static_cast<std::uint16_t>((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16)};
}

GLER_HD inline float bf16_to_float(bf16_t h) { return float_from_bits(static_cast<std::uint32_t>(h.bits) << 16); }

// convert<D>(s): static_cast between the built-in types, through float to and from the 16-bit ones.
template <class D>
struct Converter {
  template <class S>
  GLER_HD static D from(S s) { return static_cast<D>(s); }
  GLER_HD static D from(f16_t s) { return static_cast<D>(f16_to_float(s)); }
  GLER_HD static D from(bf16_t s) { return static_cast<D>(bf16_to_float(s)); }
};
template <>
struct Converter<f16_t> {
  template <class S>
  GLER_HD static f16_t from(S s) { return f16_from_float(static_cast<float>(s)); }
  GLER_HD static f16_t from(f16_t s) { return s; }
  GLER_HD static f16_t from(bf16_t s) { return f16_from_float(bf16_to_float(s)); }
};
template <>
struct Converter<bf16_t> {
  template <class S>
  GLER_HD static bf16_t from(S s) { return bf16_from_float(static_cast<float>(s)); }
  // PyTorch casts f16 to bf16 through its scalar path, whose NaN is 0x7FC0 (its vectorised
  // float path writes 0xFFFF); both are matched bit for bit.
  GLER_HD static bf16_t from(f16_t s) {
    const float f = f16_to_float(s);
    return f != f ? bf16_t{0x7FC0u} : bf16_from_float(f);
  }
  GLER_HD static bf16_t from(bf16_t s) { return s; }
};
template <class D, class S>
GLER_HD inline D convert(S s) {
  return Converter<D>::from(s);
}

}  // namespace gler
