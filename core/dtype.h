#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/half.h"

namespace gler {

// f16 and bf16 are storage types (core/half.h): casts, copies and files handle them; kernels
// compute in compute_dtype() and accumulate in f32 or wider.
enum class DType : std::uint8_t { f32, f64, i64, u8, f16, bf16 };

constexpr std::size_t dtype_size(DType t) {
  switch (t) {
    case DType::f32: return 4;
    case DType::f64: return 8;
    case DType::i64: return 8;
    case DType::u8: return 1;
    case DType::f16: return 2;
    case DType::bf16: return 2;
  }
  return 0;
}

constexpr std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "f32";
    case DType::f64: return "f64";
    case DType::i64: return "i64";
    case DType::u8: return "u8";
    case DType::f16: return "f16";
    case DType::bf16: return "bf16";
  }
  return "?";
}

// The floating types kernels compute in (and that can require a gradient).
constexpr bool is_floating(DType t) { return t == DType::f32 || t == DType::f64; }
constexpr bool is_half(DType t) { return t == DType::f16 || t == DType::bf16; }
// What a kernel computes and accumulates in for data stored as `t`: f32 for the 16-bit types.
constexpr DType compute_dtype(DType t) { return is_half(t) ? DType::f32 : t; }

template <class T> struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::f32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::f64; };
template <> struct DTypeOf<std::int64_t> { static constexpr DType value = DType::i64; };
template <> struct DTypeOf<std::uint8_t> { static constexpr DType value = DType::u8; };
template <> struct DTypeOf<f16_t> { static constexpr DType value = DType::f16; };
template <> struct DTypeOf<bf16_t> { static constexpr DType value = DType::bf16; };
template <class T> inline constexpr DType dtype_of = DTypeOf<T>::value;

// Calls f.template operator()<T>() with the C++ type T stored by `dtype` (every dtype).
template <class F>
decltype(auto) dispatch_dtype(DType dtype, F&& f) {
  switch (dtype) {
    case DType::f32: return f.template operator()<float>();
    case DType::f64: return f.template operator()<double>();
    case DType::i64: return f.template operator()<std::int64_t>();
    case DType::u8: return f.template operator()<std::uint8_t>();
    case DType::f16: return f.template operator()<f16_t>();
    case DType::bf16: return f.template operator()<bf16_t>();
  }
  return f.template operator()<float>();  // unreachable: every enumerator is handled above
}

}  // namespace gler
