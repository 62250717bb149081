#include "weights_import/npy.h"

#include <cctype>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "io/utf8.h"
#include "weights_import/byte_reader.h"
#include "weights_import/zip_reader.h"

namespace gler::wi {
namespace {

struct DescrInfo {
  char order;  // '<', '>', '|'
  char kind;   // f i u b U O c
  std::size_t size;
};

DescrInfo parse_descr(const std::string& d) {
  GLER_CHECK(d.size() >= 2 && (d[0] == '<' || d[0] == '>' || d[0] == '|' || d[0] == '='),
             "npy: unsupported dtype '" << d << "' (expected e.g. '<f4')");
  DescrInfo info{d[0] == '=' ? '<' : d[0], d[1], 0};
  if (info.kind == 'O') {
    GLER_CHECK(d.size() == 2 || d.substr(2) == "8", "npy: unsupported dtype '" << d << "'");
    info.size = 8;
    return info;
  }
  GLER_CHECK(std::string("fiubUc").find(info.kind) != std::string::npos && d.size() > 2 && d.size() <= 12,
             "npy: unsupported dtype '" << d << "' (numeric, bool, unicode or object expected)");
  std::size_t n = 0;
  for (std::size_t i = 2; i < d.size(); ++i) {
    GLER_CHECK(std::isdigit(static_cast<unsigned char>(d[i])), "npy: malformed dtype '" << d << "'");
    n = n * 10 + static_cast<std::size_t>(d[i] - '0');
  }
  info.size = info.kind == 'U' ? n * 4 : n;
  if (info.kind != 'U') {
    GLER_CHECK(n == 1 || n == 2 || n == 4 || n == 8 || (info.kind == 'c' && n == 16),
               "npy: unsupported item size in dtype '" << d << "'");
  }
  return info;
}

// The header is a Python dict literal: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
class HeaderParser {
 public:
  explicit HeaderParser(std::string_view s) : s_(s) {}

  void parse(std::string& descr, bool& fortran, std::vector<std::int64_t>& shape) {
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    while (!peek('}')) {
      std::string key = string_literal();
      expect(':');
      if (key == "descr") {
        GLER_CHECK(peek('\'') || peek('"'), "npy: structured dtypes are not supported");
        descr = string_literal();
        have_descr = true;
      } else if (key == "fortran_order") {
        fortran = boolean();
        have_order = true;
      } else if (key == "shape") {
        shape = int_tuple();
        have_shape = true;
      } else {
        GLER_FAIL("npy: unexpected header key '" << key << "'");
      }
      if (!peek('}')) expect(',');
    }
    expect('}');
    GLER_CHECK(have_descr && have_order && have_shape, "npy: header lacks descr, fortran_order or shape");
  }

 private:
  void ws() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool peek(char c) {
    ws();
    return i_ < s_.size() && s_[i_] == c;
  }
  void expect(char c) {
    GLER_CHECK(peek(c), "npy: malformed header (expected '" << c << "' at column " << i_ << ")");
    ++i_;
  }
  std::string string_literal() {
    ws();
    GLER_CHECK(i_ < s_.size() && (s_[i_] == '\'' || s_[i_] == '"'), "npy: malformed header (expected a string)");
    char q = s_[i_++];
    std::size_t end = s_.find(q, i_);
    GLER_CHECK(end != std::string_view::npos, "npy: malformed header (unterminated string)");
    std::string out(s_.substr(i_, end - i_));
    i_ = end + 1;
    return out;
  }
  bool boolean() {
    ws();
    if (s_.substr(i_, 4) == "True") return i_ += 4, true;
    if (s_.substr(i_, 5) == "False") return i_ += 5, false;
    GLER_FAIL("npy: malformed header (expected True or False)");
  }
  std::vector<std::int64_t> int_tuple() {
    std::vector<std::int64_t> dims;
    expect('(');
    while (!peek(')')) {
      ws();
      std::int64_t v = 0;
      std::size_t start = i_;
      while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) {
        GLER_CHECK(v <= (std::numeric_limits<std::int64_t>::max() - 9) / 10, "npy: dimension too large in header");
        v = v * 10 + (s_[i_++] - '0');
      }
      GLER_CHECK(i_ > start, "npy: malformed shape in header");
      if (i_ < s_.size() && s_[i_] == 'L') ++i_;  // Python 2 longs
      dims.push_back(v);
      GLER_CHECK(dims.size() <= 32, "npy: more than 32 dimensions");
      if (!peek(')')) expect(',');
    }
    expect(')');
    return dims;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

std::int64_t checked_numel(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (auto d : shape) {
    GLER_CHECK(d >= 0, "npy: negative dimension " << d);
    GLER_CHECK(d == 0 || n <= std::numeric_limits<std::int64_t>::max() / d, "npy: element count overflows");
    n *= d;
  }
  return n;
}

}  // namespace

std::int64_t NdArray::numel() const { return checked_numel(shape); }

std::size_t NdArray::itemsize() const { return parse_descr(descr).size; }

NdArray parse_npy(const std::uint8_t* bytes, std::size_t size, std::vector<std::uint8_t>* pickle) {
  ByteReader r(bytes, size, "npy");
  r.need(8);
  GLER_CHECK(r.take_str(6) == "\x93NUMPY", "npy: bad magic (not a .npy file)");
  std::uint8_t major = r.u8();
  r.u8();
  GLER_CHECK(major >= 1 && major <= 3, "npy: unsupported format version " << int(major));
  std::uint32_t header_len = major == 1 ? r.u16() : r.u32();
  std::string_view header = r.take_str(header_len);

  NdArray a;
  bool fortran = false;
  HeaderParser(header).parse(a.descr, fortran, a.shape);
  GLER_CHECK(!fortran, "npy: Fortran-order arrays are not supported");
  DescrInfo info = parse_descr(a.descr);
  std::int64_t n = checked_numel(a.shape);

  if (info.kind == 'O') {
    a.descr = "|O";
    if (pickle) pickle->assign(r.here(), r.here() + r.remaining());
    return a;
  }
  GLER_CHECK(info.size == 0 || static_cast<std::uint64_t>(n) <= r.remaining() / info.size,
             "npy: data truncated: shape needs " << n << " items of " << info.size << " bytes, " << r.remaining()
                                                 << " bytes present");
  const std::uint8_t* p = r.take(static_cast<std::uint64_t>(n) * info.size);
  if (info.kind == 'U') {
    std::size_t chars = info.size / 4;
    a.strings.reserve(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
      std::string s;
      for (std::size_t c = 0; c < chars; ++c) {
        const std::uint8_t* q = p + (static_cast<std::size_t>(i) * chars + c) * 4;
        std::uint32_t cp = info.order == '>' ? (std::uint32_t(q[0]) << 24 | q[1] << 16 | q[2] << 8 | q[3])
                                             : (std::uint32_t(q[3]) << 24 | q[2] << 16 | q[1] << 8 | q[0]);
        if (cp == 0) break;  // NumPy pads with NULs
        GLER_CHECK(cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF), "npy: invalid unicode code point " << cp);
        append_utf8(s, cp);
      }
      a.strings.push_back(std::move(s));
    }
    a.descr = "<U" + std::to_string(chars);
    return a;
  }
  a.data.assign(p, p + static_cast<std::size_t>(n) * info.size);
  if (info.order == '>' && info.size > 1) {  // store little-endian
    std::size_t part = info.kind == 'c' ? info.size / 2 : info.size;
    for (std::size_t i = 0; i < a.data.size(); i += part)
      for (std::size_t j = 0; j < part / 2; ++j) std::swap(a.data[i + j], a.data[i + part - 1 - j]);
    a.descr[0] = '<';
  }
  if (info.size == 1) a.descr[0] = '|';
  return a;
}

NdArray read_npy(const std::string& path, std::vector<std::uint8_t>* pickle) {
  auto bytes = read_file_bytes(path);
  try {
    return parse_npy(bytes.data(), bytes.size(), pickle);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

std::map<std::string, NdArray> read_npz(const std::string& path) {
  auto bytes = read_file_bytes(path);
  try {
    ZipReader zip(bytes.data(), bytes.size());
    std::map<std::string, NdArray> out;
    for (const auto& e : zip.entries()) {
      std::string key = e.name;
      if (key.size() > 4 && key.compare(key.size() - 4, 4, ".npy") == 0) key.resize(key.size() - 4);
      auto member = zip.read(e);
      try {
        out[key] = parse_npy(member.data(), member.size());
      } catch (const Error& err) {
        throw Error("member '" + e.name + "': " + err.what());
      }
    }
    return out;
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

}  // namespace gler::wi
