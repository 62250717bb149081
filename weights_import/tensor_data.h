// Between the importer's raw named tensors (TensorData: bytes + safetensors dtype name) and
// tensors. The 16-bit float types stay 16-bit (f16, bf16 storage); the narrower integer types
// widen to i64 and BOOL becomes u8, the integer types gler computes with.
#pragma once
#include "core/tensor.h"
#include "weights_import/state_dict.h"

namespace gler::wi {

// A CPU tensor holding t's values; throws for a dtype it cannot hold.
Tensor to_tensor(const TensorData& t);
// The bytes and safetensors dtype of a tensor (any device; copied to the host).
TensorData to_tensor_data(const Tensor& t);

}  // namespace gler::wi
