// A small reader for the zip archives PyTorch (torch >= 1.6) and NumPy (.npz) write: central
// directory (zip64 included), stored and deflated entries. Every offset and size in the archive
// is checked against the buffer; entries may not overlap each other or the central directory.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gler::wi {

struct ZipEntry {
  std::string name;
  std::uint16_t method = 0;       // 0 stored, 8 deflated
  std::uint32_t crc32 = 0;
  std::uint64_t data_offset = 0;  // first byte of the (compressed) data in the archive
  std::uint64_t compressed_size = 0;
  std::uint64_t size = 0;         // uncompressed
};

class ZipReader {
 public:
  // Parses the archive's directory; `data` must outlive the reader.
  ZipReader(const std::uint8_t* data, std::size_t size);

  const std::vector<ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(std::string_view name) const;  // nullptr when absent

  // The entry's bytes: a view for stored entries, inflated for deflated ones. CRCs are checked.
  std::span<const std::uint8_t> stored(const ZipEntry& e) const;
  std::vector<std::uint8_t> read(const ZipEntry& e) const;

  // True when the buffer starts with a local file header.
  static bool looks_like_zip(const std::uint8_t* data, std::size_t size);

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::vector<ZipEntry> entries_;
};

}  // namespace gler::wi
