// Little-endian file bytes of Src values to Dst values (core/half.h's convert: through float for
// the 16-bit float types). The files' bytes need not be aligned for Src, hence the memcpy.
#pragma once
#include <cstdint>
#include <cstring>

#include "core/half.h"

namespace gler::wi {

template <class Src, class Dst>
void convert_bytes(const std::uint8_t* src, Dst* dst, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) {
    Src v;
    std::memcpy(&v, src + i * static_cast<std::int64_t>(sizeof(Src)), sizeof(Src));
    dst[i] = gler::convert<Dst>(v);
  }
}

}  // namespace gler::wi
