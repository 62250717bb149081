#include "weights_import/tensor_data.h"

#include <cstring>

#include "core/error.h"
#include "weights_import/convert_bytes.h"

namespace gler::wi {

namespace {

DType native_dtype(const std::string& name) {
  if (name == "F32") return DType::f32;
  if (name == "F64") return DType::f64;
  if (name == "F16") return DType::f16;
  if (name == "BF16") return DType::bf16;
  if (name == "I64") return DType::i64;
  if (name == "U8") return DType::u8;
  GLER_FAIL("no native tensor type for safetensors dtype " << name);
}

const char* safetensors_dtype(DType dtype) {
  switch (dtype) {
    case DType::f32: return "F32";
    case DType::f64: return "F64";
    case DType::i64: return "I64";
    case DType::u8: return "U8";
    case DType::f16: return "F16";
    case DType::bf16: return "BF16";
  }
  GLER_FAIL("unknown dtype");
}

template <class Src>
Tensor widened(const TensorData& t, DType dtype) {
  Tensor out = Tensor::empty(Shape(t.shape), dtype);
  dispatch_dtype(dtype, [&]<class D>() { convert_bytes<Src>(t.data.data(), out.host_data<D>(), out.numel()); });
  return out;
}

}  // namespace

Tensor to_tensor(const TensorData& t) {
  GLER_CHECK(t.shape.size() <= static_cast<std::size_t>(Shape::kMaxDims),
             "tensor has " << t.shape.size() << " dimensions; gler holds at most " << Shape::kMaxDims);
  GLER_CHECK(t.data.size() == static_cast<std::size_t>(t.numel()) * dtype_bytes(t.dtype),
             "tensor data of " << t.data.size() << " bytes does not match " << t.dtype << " " << shape_str(t.shape));
  if (t.dtype == "I32") return widened<std::int32_t>(t, DType::i64);
  if (t.dtype == "I16") return widened<std::int16_t>(t, DType::i64);
  if (t.dtype == "I8") return widened<std::int8_t>(t, DType::i64);
  if (t.dtype == "BOOL") return widened<std::uint8_t>(t, DType::u8);
  Tensor out = Tensor::empty(Shape(t.shape), native_dtype(t.dtype));
  if (!t.data.empty()) std::memcpy(out.raw(), t.data.data(), t.data.size());
  return out;
}

TensorData to_tensor_data(const Tensor& t) {
  const Tensor host = t.device().is_cpu() ? t : t.detach().to(Device::CPU);
  TensorData out;
  out.dtype = safetensors_dtype(t.dtype());
  out.shape = t.shape().to_vector();
  out.data.resize(host.nbytes());
  if (!out.data.empty()) std::memcpy(out.data.data(), host.raw(), out.data.size());
  return out;
}

}  // namespace gler::wi
