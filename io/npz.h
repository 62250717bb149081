// Writing NumPy .npz files as np.savez does: an uncompressed zip of .npy (format 1.0) members,
// one per named array, readable by numpy.load and by weights_import's npz reader.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace gler::io {

// One named array: little-endian float32 ("<f4") or float64 ("<f8") elements in C order.
struct NpyArray {
  std::string name;  // the key numpy.load gives it; stored as NAME.npy
  std::string descr;
  std::vector<std::int64_t> shape;
  std::vector<std::uint8_t> data;  // numel(shape) * itemsize bytes
};

NpyArray npy_f32(std::string name, std::vector<std::int64_t> shape, const std::vector<float>& values);
NpyArray npy_f64(std::string name, std::vector<std::int64_t> shape, const std::vector<double>& values);

// The .npy bytes of one array: magic, version 1.0, the header dict padded to a multiple of 64.
std::vector<std::uint8_t> encode_npy(const NpyArray& array);
// The .npz bytes: stored (uncompressed) zip members with CRC-32, fixed timestamps (1980-01-01),
// so equal arrays give byte-identical files.
std::vector<std::uint8_t> encode_npz(const std::vector<NpyArray>& arrays);
// encode_npz written atomically (io/files.h).
void write_npz(const std::filesystem::path& path, const std::vector<NpyArray>& arrays);

}  // namespace gler::io
