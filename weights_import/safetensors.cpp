#include "weights_import/safetensors.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <limits>
#include <memory>
#include <set>

#include "core/error.h"
#include "weights_import/byte_reader.h"

namespace gler::wi {
namespace {

constexpr std::uint64_t kMaxHeader = 100u << 20;  // the Python reader's limit

// Just enough JSON for safetensors headers: objects, arrays, strings, integers.
struct Json {
  enum class Kind { Object, Array, String, Int, Other } kind = Kind::Other;
  std::string s;
  std::int64_t i = 0;
  std::vector<std::string> keys;  // Object: keys[i] names array[i]
  std::vector<Json> array;        // Array elements, or Object values
};

class JsonParser {
 public:
  explicit JsonParser(std::string_view s) : s_(s) {}

  Json parse_document() {
    Json j = value(0);
    ws();
    GLER_CHECK(i_ == s_.size(), "safetensors: trailing characters after the JSON header");
    return j;
  }

 private:
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) ++i_;
  }
  [[noreturn]] void fail(const char* what) { GLER_FAIL("safetensors: malformed JSON header (" << what << " at " << i_ << ")"); }
  char peek() {
    ws();
    if (i_ >= s_.size()) fail("unexpected end");
    return s_[i_];
  }
  Json value(int depth) {
    if (depth > 8) fail("nesting too deep");
    char c = peek();
    Json j;
    if (c == '{') {
      j.kind = Json::Kind::Object;
      ++i_;
      std::set<std::string> seen;
      if (peek() == '}') return ++i_, j;
      while (true) {
        if (peek() != '"') fail("expected a key");
        std::string key = string();
        if (!seen.insert(key).second) GLER_FAIL("safetensors: duplicate key '" << key << "' in header");
        if (peek() != ':') fail("expected ':'");
        ++i_;
        j.keys.push_back(std::move(key));
        j.array.push_back(value(depth + 1));
        char d = peek();
        ++i_;
        if (d == '}') return j;
        if (d != ',') fail("expected ',' or '}'");
      }
    }
    if (c == '[') {
      j.kind = Json::Kind::Array;
      ++i_;
      if (peek() == ']') return ++i_, j;
      while (true) {
        j.array.push_back(value(depth + 1));
        char d = peek();
        ++i_;
        if (d == ']') return j;
        if (d != ',') fail("expected ',' or ']'");
      }
    }
    if (c == '"') {
      j.kind = Json::Kind::String;
      j.s = string();
      return j;
    }
    if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) {
      j.kind = Json::Kind::Int;
      bool neg = c == '-';
      if (neg) ++i_;
      std::size_t start = i_;
      while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) {
        if (j.i > (std::numeric_limits<std::int64_t>::max() - 9) / 10) fail("integer too large");
        j.i = j.i * 10 + (s_[i_++] - '0');
      }
      if (i_ == start) fail("expected digits");
      if (i_ < s_.size() && (s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E')) fail("non-integer number");
      if (neg) j.i = -j.i;
      return j;
    }
    for (std::string_view lit : {"true", "false", "null"})
      if (s_.substr(i_, lit.size()) == lit) return i_ += lit.size(), j;
    fail("unexpected character");
  }
  std::string string() {
    ++i_;  // opening quote
    std::string out;
    while (true) {
      if (i_ >= s_.size()) fail("unterminated string");
      char c = s_[i_++];
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) fail("unterminated escape");
      char e = s_[i_++];
      switch (e) {
        case '"': case '\\': case '/': out += e; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          if (s_.size() - i_ < 4) fail("short \\u escape");
          unsigned cp = 0;
          for (int k = 0; k < 4; ++k) {
            char h = s_[i_++];
            if (!std::isxdigit(static_cast<unsigned char>(h))) fail("bad \\u escape");
            cp = cp * 16 + static_cast<unsigned>(std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
          }
          if (cp < 0x80) {
            out += static_cast<char>(cp);
          } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
          } else {  // surrogates are kept as-is; names here are ASCII in practice
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
          }
          break;
        }
        default: fail("bad escape");
      }
    }
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

void json_string(std::string& out, const std::string& s) {
  out += '"';
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      const char* hex = "0123456789abcdef";
      out += "\\u00";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  out += '"';
}

}  // namespace

bool is_safetensors(const std::uint8_t* data, std::size_t size) {
  return size >= 9 && data[8] == '{';
}

StateDict parse_safetensors(const std::uint8_t* data, std::size_t size) {
  ByteReader r(data, size, "safetensors");
  std::uint64_t header_len = r.u64();
  GLER_CHECK(header_len <= kMaxHeader, "safetensors: header of " << header_len << " bytes is too large");
  std::string_view header = r.take_str(header_len);
  std::size_t data_size = r.remaining();
  const std::uint8_t* base = r.here();
  Json root = JsonParser(header).parse_document();
  GLER_CHECK(root.kind == Json::Kind::Object, "safetensors: header is not a JSON object");

  StateDict sd;
  struct Range {
    std::uint64_t begin, end;
    std::size_t entry;
  };
  std::vector<Range> ranges;
  for (std::size_t idx = 0; idx < root.keys.size(); ++idx) {
    const std::string& name = root.keys[idx];
    const Json& info = root.array[idx];
    if (name == "__metadata__") {
      GLER_CHECK(info.kind == Json::Kind::Object, "safetensors: __metadata__ must be an object");
      for (std::size_t m = 0; m < info.keys.size(); ++m) {
        GLER_CHECK(info.array[m].kind == Json::Kind::String,
                   "safetensors: metadata value '" << info.keys[m] << "' is not a string");
        sd.metadata[info.keys[m]] = info.array[m].s;
      }
      continue;
    }
    auto field = [&info, &name](const char* key) -> const Json& {
      for (std::size_t m = 0; m < info.keys.size(); ++m)
        if (info.keys[m] == key) return info.array[m];
      GLER_FAIL("safetensors: tensor '" << name << "' lacks \"" << key << "\"");
    };
    GLER_CHECK(info.kind == Json::Kind::Object, "safetensors: entry '" << name << "' is not an object");
    const Json& dtype = field("dtype");
    const Json& shape = field("shape");
    const Json& offsets = field("data_offsets");
    GLER_CHECK(dtype.kind == Json::Kind::String, "safetensors: tensor '" << name << "' has a non-string dtype");
    TensorData t;
    t.dtype = dtype.s;
    std::size_t elem = dtype_bytes(t.dtype);
    GLER_CHECK(shape.kind == Json::Kind::Array, "safetensors: tensor '" << name << "' has a bad shape");
    for (const Json& d : shape.array) {
      GLER_CHECK(d.kind == Json::Kind::Int && d.i >= 0, "safetensors: tensor '" << name << "' has a bad shape");
      t.shape.push_back(d.i);
    }
    GLER_CHECK(offsets.kind == Json::Kind::Array && offsets.array.size() == 2 &&
                   offsets.array[0].kind == Json::Kind::Int && offsets.array[1].kind == Json::Kind::Int,
               "safetensors: tensor '" << name << "' has bad data_offsets");
    std::int64_t b = offsets.array[0].i, e = offsets.array[1].i;
    GLER_CHECK(b >= 0 && b <= e && static_cast<std::uint64_t>(e) <= data_size,
               "safetensors: tensor '" << name << "' data [" << b << ", " << e << ") is outside the " << data_size
                                       << "-byte data section");
    std::int64_t n = checked_numel(t.shape, name.c_str());
    GLER_CHECK(static_cast<std::uint64_t>(n) <= data_size / elem &&
                   static_cast<std::uint64_t>(e - b) == static_cast<std::uint64_t>(n) * elem,
               "safetensors: tensor '" << name << "' of shape " << shape_str(t.shape) << " " << t.dtype << " has "
                                       << (e - b) << " bytes of data");
    t.data.assign(base + b, base + e);
    ranges.push_back({static_cast<std::uint64_t>(b), static_cast<std::uint64_t>(e), sd.entries.size()});
    sd.add(name, std::move(t));
  }
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  for (std::size_t i = 1; i < ranges.size(); ++i)
    GLER_CHECK(ranges[i].begin >= ranges[i - 1].end, "safetensors: tensors '" << sd.entries[ranges[i - 1].entry].first
                                                                               << "' and '" << sd.entries[ranges[i].entry].first
                                                                               << "' overlap");
  // File order is data order.
  std::vector<std::pair<std::string, TensorData>> ordered;
  ordered.reserve(ranges.size());
  for (const auto& rg : ranges) ordered.push_back(std::move(sd.entries[rg.entry]));
  sd.entries = std::move(ordered);
  return sd;
}

StateDict read_safetensors(const std::string& path) {
  auto bytes = read_file_bytes(path);
  try {
    return parse_safetensors(bytes.data(), bytes.size());
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

void write_safetensors(const std::string& path, const StateDict& sd) {
  std::string header = "{";
  bool first = true;
  if (!sd.metadata.empty()) {
    header += "\"__metadata__\":{";
    for (const auto& [k, v] : sd.metadata) {
      if (!first) header += ',';
      first = false;
      json_string(header, k);
      header += ':';
      json_string(header, v);
    }
    header += '}';
    first = false;
  }
  std::uint64_t offset = 0;
  for (const auto& [name, t] : sd.entries) {
    GLER_CHECK(name != "__metadata__", "a tensor may not be named __metadata__");
    std::uint64_t nbytes = static_cast<std::uint64_t>(t.numel()) * dtype_bytes(t.dtype);
    GLER_CHECK(nbytes == t.data.size(), "tensor '" << name << "' has " << t.data.size() << " bytes, its shape needs " << nbytes);
    if (!first) header += ',';
    first = false;
    json_string(header, name);
    header += ":{\"dtype\":\"" + t.dtype + "\",\"shape\":[";
    for (std::size_t i = 0; i < t.shape.size(); ++i) {
      if (i) header += ',';
      header += std::to_string(t.shape[i]);
    }
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + nbytes) + "]}";
    offset += nbytes;
  }
  header += '}';
  header.append((8 - header.size() % 8) % 8, ' ');

  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    GLER_CHECK(f, "cannot write '" << tmp << "'");
    std::uint8_t len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(header.size()) >> (8 * i));
    f.write(reinterpret_cast<const char*>(len), 8);
    f.write(header.data(), static_cast<std::streamsize>(header.size()));
    for (const auto& [name, t] : sd.entries)
      f.write(reinterpret_cast<const char*>(t.data.data()), static_cast<std::streamsize>(t.data.size()));
    GLER_CHECK(f.flush(), "cannot write '" << tmp << "' (disk full?)");
  }
  GLER_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, "cannot rename '" << tmp << "' to '" << path << "'");
}

}  // namespace gler::wi
