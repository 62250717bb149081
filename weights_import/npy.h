// NumPy .npy / .npz reading. Arrays come back as raw little-endian bytes plus their NumPy dtype,
// so every numeric type NumPy writes can be read; `to_tensor` converts the ones gler computes with.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace gler::wi {

struct NdArray {
  std::string descr;                // NumPy dtype string as written in the header: "<f4", "<i8", "|u1", "<U9", "|O"
  std::vector<std::int64_t> shape;  // C order (Fortran-order files are rejected)
  std::vector<std::uint8_t> data;   // raw element bytes, C order; empty for object arrays
  std::vector<std::string> strings; // "<U" arrays, decoded to UTF-8, one per element
  std::int64_t numel() const;
  std::size_t itemsize() const;     // from descr
};

// Parses one .npy file held in memory. Object ('|O') arrays are returned with descr "|O" and no
// data unless allow_pickle is set, in which case `pickle` receives the raw pickle stream.
NdArray parse_npy(const std::uint8_t* bytes, std::size_t size, std::vector<std::uint8_t>* pickle = nullptr);
NdArray read_npy(const std::string& path, std::vector<std::uint8_t>* pickle = nullptr);

// Every member of an .npz archive (stored or deflated), keyed by name without ".npy".
std::map<std::string, NdArray> read_npz(const std::string& path);

// Converts float16/32/64, int8..64, uint8, bool arrays to a CPU tensor of `dtype`
// (f32, f64, i64 or u8); throws for strings and objects.
Tensor to_tensor(const NdArray& a, DType dtype);

}  // namespace gler::wi
