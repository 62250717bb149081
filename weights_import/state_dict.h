// The importer's common currency: named tensors as raw little-endian bytes plus a safetensors dtype
// name, in file order, with string metadata (arch and hyper-parameters).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "weights_import/pickle_vm.h"

namespace gler::wi {

struct TensorData {
  std::string dtype;  // safetensors names: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL
  std::vector<std::int64_t> shape;
  std::vector<std::uint8_t> data;  // C order, little-endian
  std::int64_t numel() const;
};

// What a StateDict was read from (none: built in memory). gler_import marks group-emotion models
// imported from PyTorch files as the seed's (seed_compat), keeps a safetensors file's metadata and
// converts TF.js names and layouts to PyTorch's.
enum class SourceFormat : std::uint8_t { none, pytorch, numpy, safetensors, mtcnn_dir, tfjs };

struct StateDict {
  std::vector<std::pair<std::string, TensorData>> entries;
  std::map<std::string, std::string> metadata;
  SourceFormat format = SourceFormat::none;

  const TensorData* find(const std::string& name) const;
  bool has(const std::string& name) const { return find(name) != nullptr; }
  void add(std::string name, TensorData t);  // throws on a duplicate name
};

// Bytes per element of a safetensors dtype name; throws for unknown names.
std::size_t dtype_bytes(const std::string& dtype);
// Safetensors dtype of a NumPy descr ("<f4" -> "F32"); throws for strings and objects.
std::string dtype_from_numpy(const std::string& descr);
TensorData from_ndarray(const NdArray& a);
// Product of the dimensions, checked for overflow and negative sizes.
std::int64_t checked_numel(const std::vector<std::int64_t>& shape, const char* what);
std::string shape_str(const std::vector<std::int64_t>& shape);  // "(2, 3)"

// Every tensor in an unpickled checkpoint, with PyTorch's dotted state-dict names: a whole
// module (parameters, buffers, then child modules, recursively), a state dict, a dict holding
// one under "state_dict"/"model", or a dict of NumPy arrays.
std::vector<std::pair<std::string, const Value*>> collect_tensors(const Value& root);

// PyTorch name clean-ups: strips DataParallel's `module.`, renames torchvision <= 0.2.1 dense
// layer names (`denselayer1.norm.1.weight` -> `denselayer1.norm1.weight`), and maps the released
// checkpoints' `non_align_model` to `align_model`.
std::string normalize_name(const std::string& name);

}  // namespace gler::wi
