// Bounds-checked little-endian reading from a buffer that came from a file: every read checks
// the remaining length first, so no declared size can move the cursor outside the buffer.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace gler::wi {

class ByteReader {
 public:
  ByteReader(const std::uint8_t* data, std::size_t size, std::string what)
      : data_(data), size_(size), what_(std::move(what)) {}

  std::size_t pos() const { return pos_; }
  std::size_t size() const { return size_; }
  std::size_t remaining() const { return size_ - pos_; }
  bool done() const { return pos_ == size_; }
  const std::uint8_t* here() const { return data_ + pos_; }

  void need(std::uint64_t n) const {
    GLER_CHECK(n <= remaining(), what_ << ": truncated at byte " << pos_ << " (need " << n << " more bytes, "
                                       << remaining() << " left)");
  }
  void seek(std::uint64_t p) {
    GLER_CHECK(p <= size_, what_ << ": offset " << p << " is outside the " << size_ << "-byte buffer");
    pos_ = static_cast<std::size_t>(p);
  }
  void skip(std::uint64_t n) {
    need(n);
    pos_ += static_cast<std::size_t>(n);
  }
  const std::uint8_t* take(std::uint64_t n) {
    need(n);
    const std::uint8_t* p = data_ + pos_;
    pos_ += static_cast<std::size_t>(n);
    return p;
  }
  std::string_view take_str(std::uint64_t n) {
    return {reinterpret_cast<const char*>(take(n)), static_cast<std::size_t>(n)};
  }

  std::uint8_t u8() { return *take(1); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(le(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(le(4)); }
  std::uint64_t u64() { return le(8); }
  std::int32_t i32() { return static_cast<std::int32_t>(u32()); }
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
  double f64_be() {  // pickle's BINFLOAT is big-endian
    const std::uint8_t* p = take(8);
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
    double d;
    std::memcpy(&d, &v, 8);
    return d;
  }

 private:
  std::uint64_t le(int n) {
    const std::uint8_t* p = take(static_cast<std::uint64_t>(n));
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
    return v;
  }

  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  std::string what_;
};

// Reads a whole file into memory (the formats here all need random access).
std::vector<std::uint8_t> read_file_bytes(const std::string& path);

}  // namespace gler::wi
