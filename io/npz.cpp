#include "io/npz.h"

#include <zlib.h>

#include <bit>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "io/files.h"

namespace gler::io {

static_assert(std::endian::native == std::endian::little, "npz members are written as the host's little-endian bytes");

namespace {

std::int64_t numel(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (std::int64_t d : shape) {
    GLER_CHECK(d >= 0, "npy: negative dimension " << d);
    n *= d;
  }
  return n;
}

template <typename T>
NpyArray make_array(std::string name, const char* descr, std::vector<std::int64_t> shape, const std::vector<T>& values) {
  const std::int64_t n = numel(shape);
  GLER_CHECK(static_cast<std::int64_t>(values.size()) == n,
             "npy '" << name << "': the shape holds " << n << " elements but " << values.size() << " were given");
  NpyArray a{std::move(name), descr, std::move(shape), std::vector<std::uint8_t>(values.size() * sizeof(T))};
  if (!values.empty()) std::memcpy(a.data.data(), values.data(), a.data.size());
  return a;
}

void put16(std::vector<std::uint8_t>& out, std::uint32_t v) {
  out.push_back(static_cast<std::uint8_t>(v));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
}

void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  put16(out, v & 0xffff);
  put16(out, v >> 16);
}

void put_bytes(std::vector<std::uint8_t>& out, const std::string& s) { out.insert(out.end(), s.begin(), s.end()); }

// MS-DOS date of 1980-01-01 (year 0, month 1, day 1), time 00:00:00.
constexpr std::uint32_t kDosDate = (1 << 5) | 1, kDosTime = 0;

}  // namespace

NpyArray npy_f32(std::string name, std::vector<std::int64_t> shape, const std::vector<float>& values) {
  return make_array(std::move(name), "<f4", std::move(shape), values);
}

NpyArray npy_f64(std::string name, std::vector<std::int64_t> shape, const std::vector<double>& values) {
  return make_array(std::move(name), "<f8", std::move(shape), values);
}

std::vector<std::uint8_t> encode_npy(const NpyArray& array) {
  const std::size_t itemsize = array.descr == "<f4" ? 4 : array.descr == "<f8" ? 8 : 0;
  GLER_CHECK(itemsize != 0, "npy '" << array.name << "': unsupported dtype '" << array.descr << "' (expected <f4 or <f8)");
  GLER_CHECK(array.data.size() == static_cast<std::size_t>(numel(array.shape)) * itemsize,
             "npy '" << array.name << "': " << array.data.size() << " data bytes do not match the shape");
  std::string shape = "(";
  for (std::size_t i = 0; i < array.shape.size(); ++i) shape += (i ? ", " : "") + std::to_string(array.shape[i]);
  shape += array.shape.size() == 1 ? ",)" : ")";
  std::string header = "{'descr': '" + array.descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // numpy pads the header with spaces and a final '\n' so the data starts 64-byte aligned.
  const std::size_t preamble = 10;
  header.append(63 - (preamble + header.size()) % 64, ' ');
  header += '\n';
  std::vector<std::uint8_t> out;
  out.reserve(preamble + header.size() + array.data.size());
  put_bytes(out, "\x93NUMPY");
  out.push_back(1);
  out.push_back(0);
  put16(out, static_cast<std::uint32_t>(header.size()));
  put_bytes(out, header);
  out.insert(out.end(), array.data.begin(), array.data.end());
  return out;
}

std::vector<std::uint8_t> encode_npz(const std::vector<NpyArray>& arrays) {
  std::vector<std::uint8_t> out, directory;
  for (const NpyArray& array : arrays) {
    const std::string name = array.name + ".npy";
    const std::vector<std::uint8_t> member = encode_npy(array);
    // Without zip64 every size and offset must fit 32 bits.
    GLER_CHECK(member.size() < std::numeric_limits<std::uint32_t>::max() && out.size() < std::numeric_limits<std::uint32_t>::max() - member.size(),
               "npz: member '" << name << "' would make the archive larger than 4 GiB");
    const auto crc = static_cast<std::uint32_t>(::crc32(0L, member.data(), static_cast<uInt>(member.size())));
    const auto size = static_cast<std::uint32_t>(member.size()), offset = static_cast<std::uint32_t>(out.size());
    const auto name_len = static_cast<std::uint32_t>(name.size());

    put32(out, 0x04034b50);  // local file header
    for (std::uint32_t v : {20u, 0u, 0u, kDosTime, kDosDate}) put16(out, v);  // version, flags, stored, time, date
    for (std::uint32_t v : {crc, size, size}) put32(out, v);
    put16(out, name_len);
    put16(out, 0);
    put_bytes(out, name);
    out.insert(out.end(), member.begin(), member.end());

    put32(directory, 0x02014b50);  // central directory header
    for (std::uint32_t v : {20u, 20u, 0u, 0u, kDosTime, kDosDate}) put16(directory, v);
    for (std::uint32_t v : {crc, size, size}) put32(directory, v);
    for (std::uint32_t v : {name_len, 0u, 0u, 0u, 0u}) put16(directory, v);  // name, extra, comment, disk, internal attrs
    put32(directory, 0);                                                       // external attributes
    put32(directory, offset);
    put_bytes(directory, name);
  }
  GLER_CHECK(arrays.size() < 0xffff, "npz: " << arrays.size() << " members need zip64");
  const auto directory_offset = static_cast<std::uint32_t>(out.size());
  out.insert(out.end(), directory.begin(), directory.end());
  put32(out, 0x06054b50);  // end of central directory
  const auto count = static_cast<std::uint32_t>(arrays.size());
  for (std::uint32_t v : {0u, 0u, count, count}) put16(out, v);
  put32(out, static_cast<std::uint32_t>(directory.size()));
  put32(out, directory_offset);
  put16(out, 0);
  return out;
}

void write_npz(const std::filesystem::path& path, const std::vector<NpyArray>& arrays) {
  write_bytes_atomic(path, encode_npz(arrays));
}

}  // namespace gler::io
