// NdArray -> Tensor conversion; separate from npy.cpp so the readers build without gler_core.
#include <cstring>

#include "core/error.h"
#include "weights_import/convert_bytes.h"
#include "weights_import/npy.h"

namespace gler::wi {

Tensor to_tensor(const NdArray& a, DType dtype) {
  std::size_t size = a.itemsize();
  char kind = a.descr.size() > 1 ? a.descr[1] : '?';
  GLER_CHECK(kind != 'U' && kind != 'O' && kind != 'c',
             "cannot convert a NumPy '" << a.descr << "' array to a tensor (numeric arrays only)");
  GLER_CHECK(a.shape.size() <= static_cast<std::size_t>(Shape::kMaxDims),
             "array has " << a.shape.size() << " dimensions; tensors hold at most " << Shape::kMaxDims);
  std::int64_t n = a.numel();
  GLER_CHECK(a.data.size() == static_cast<std::size_t>(n) * size, "array data size does not match its shape");
  Tensor t = Tensor::empty(Shape(a.shape), dtype);
  auto fill = [&](auto* dst) {
    const std::uint8_t* s = a.data.data();
    switch (kind * 16 + static_cast<int>(size)) {
      case 'f' * 16 + 2: convert_bytes<f16_t>(s, dst, n); break;
      case 'f' * 16 + 4: convert_bytes<float>(s, dst, n); break;
      case 'f' * 16 + 8: convert_bytes<double>(s, dst, n); break;
      case 'i' * 16 + 1: convert_bytes<std::int8_t>(s, dst, n); break;
      case 'i' * 16 + 2: convert_bytes<std::int16_t>(s, dst, n); break;
      case 'i' * 16 + 4: convert_bytes<std::int32_t>(s, dst, n); break;
      case 'i' * 16 + 8: convert_bytes<std::int64_t>(s, dst, n); break;
      case 'u' * 16 + 1: convert_bytes<std::uint8_t>(s, dst, n); break;
      case 'u' * 16 + 2: convert_bytes<std::uint16_t>(s, dst, n); break;
      case 'u' * 16 + 4: convert_bytes<std::uint32_t>(s, dst, n); break;
      case 'u' * 16 + 8: convert_bytes<std::uint64_t>(s, dst, n); break;
      case 'b' * 16 + 1: convert_bytes<std::uint8_t>(s, dst, n); break;
      default: GLER_FAIL("cannot convert NumPy dtype '" << a.descr << "' to a tensor");
    }
  };
  dispatch_dtype(dtype, [&]<class T>() { fill(t.data<T>()); });
  return t;
}

}  // namespace gler::wi
