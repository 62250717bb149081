#include "weights_import/safetensors.h"

#include <algorithm>
#include <fstream>

#include "core/error.h"
#include "io/json.h"
#include "weights_import/byte_reader.h"

namespace gler::wi {
namespace {

constexpr std::uint64_t kMaxHeader = 100u << 20;  // the Python reader's limit

// A shape dimension or a data offset: a non-negative integer. as_int also refuses fractions and
// magnitudes from 2^53 on, where a double no longer counts exactly.
std::int64_t count_of(const json::Value& v, const std::string& name, const char* what) {
  try {
    std::int64_t n = v.as_int();
    if (n >= 0) return n;
  } catch (const Error&) {  // not an exact integer: reported below, with the tensor's name
  }
  GLER_FAIL("safetensors: tensor '" << name << "' has " << what);
}

// The __metadata__ member: string values only.
std::map<std::string, std::string> metadata_of(const json::Value& info) {
  GLER_CHECK(info.is_object(), "safetensors: __metadata__ must be an object");
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : info.as_object()) {
    GLER_CHECK(value.is_string(), "safetensors: metadata value '" << key << "' is not a string");
    out[key] = value.as_string();
  }
  return out;
}

// The 8-byte length and the JSON header; `r` is left at the data section.
json::Value parse_header(ByteReader& r) {
  std::uint64_t header_len = r.u64();
  GLER_CHECK(header_len <= kMaxHeader, "safetensors: header of " << header_len << " bytes is too large");
  std::string_view header = r.take_str(header_len);
  json::Value root;
  try {
    root = json::parse(header);  // depth-limited: a hostile [[[[... header cannot overflow the stack
  } catch (const Error& e) {
    GLER_FAIL("safetensors: malformed JSON header (" << e.what() << ")");
  }
  GLER_CHECK(root.is_object(), "safetensors: header is not a JSON object");
  return root;
}

}  // namespace

bool is_safetensors(const std::uint8_t* data, std::size_t size) {
  return size >= 9 && data[8] == '{';
}

StateDict parse_safetensors(const std::uint8_t* data, std::size_t size) {
  ByteReader r(data, size, "safetensors");
  const json::Value root = parse_header(r);
  std::size_t data_size = r.remaining();
  const std::uint8_t* base = r.here();

  StateDict sd;
  sd.format = SourceFormat::safetensors;
  struct Range {
    std::uint64_t begin, end;
    std::size_t entry;
  };
  std::vector<Range> ranges;
  for (const auto& member : root.as_object()) {
    const std::string& name = member.first;  // not a structured binding: clang 14 cannot capture one
    const json::Value& info = member.second;
    if (name == "__metadata__") {
      sd.metadata = metadata_of(info);
      continue;
    }
    GLER_CHECK(info.is_object(), "safetensors: entry '" << name << "' is not an object");
    auto field = [&info, &name](const char* key) -> const json::Value& {
      const json::Value* v = info.find(key);
      GLER_CHECK(v, "safetensors: tensor '" << name << "' lacks \"" << key << "\"");
      return *v;
    };
    const json::Value& dtype = field("dtype");
    const json::Value& shape = field("shape");
    const json::Value& offsets = field("data_offsets");
    GLER_CHECK(dtype.is_string(), "safetensors: tensor '" << name << "' has a non-string dtype");
    TensorData t;
    t.dtype = dtype.as_string();
    std::size_t elem = dtype_bytes(t.dtype);
    GLER_CHECK(shape.is_array(), "safetensors: tensor '" << name << "' has a bad shape");
    for (const json::Value& d : shape.as_array()) t.shape.push_back(count_of(d, name, "a bad shape"));
    GLER_CHECK(offsets.is_array() && offsets.as_array().size() == 2, "safetensors: tensor '" << name << "' has bad data_offsets");
    std::int64_t b = count_of(offsets.as_array()[0], name, "bad data_offsets");
    std::int64_t e = count_of(offsets.as_array()[1], name, "bad data_offsets");
    GLER_CHECK(b <= e && static_cast<std::uint64_t>(e) <= data_size,
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

std::map<std::string, std::string> parse_safetensors_metadata(const std::uint8_t* data, std::size_t size) {
  ByteReader r(data, size, "safetensors");
  const json::Value root = parse_header(r);
  const json::Value* meta = root.find("__metadata__");
  return meta ? metadata_of(*meta) : std::map<std::string, std::string>{};
}

std::map<std::string, std::string> read_safetensors_metadata(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  GLER_CHECK(f, "cannot open '" << path << "'");
  std::vector<std::uint8_t> bytes(8);
  f.read(reinterpret_cast<char*>(bytes.data()), 8);
  try {
    GLER_CHECK(f.gcount() == 8, "safetensors: the file ends inside the 8-byte header length");
    std::uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[static_cast<std::size_t>(i)];
    GLER_CHECK(header_len <= kMaxHeader, "safetensors: header of " << header_len << " bytes is too large");
    bytes.resize(8 + header_len);
    f.read(reinterpret_cast<char*>(bytes.data()) + 8, static_cast<std::streamsize>(header_len));
    bytes.resize(8 + static_cast<std::size_t>(f.gcount()));  // a short file: parse reports the truncation
    return parse_safetensors_metadata(bytes.data(), bytes.size());
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
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
  // Members are appended directly: tensor names are unique (StateDict::add) and __metadata__ is
  // refused below, so Value::set's duplicate search would only cost time on large models.
  json::Object header_json;
  if (!sd.metadata.empty()) {
    json::Object meta;
    for (const auto& [k, v] : sd.metadata) meta.emplace_back(k, v);
    header_json.emplace_back("__metadata__", std::move(meta));
  }
  std::uint64_t offset = 0;
  for (const auto& [name, t] : sd.entries) {
    GLER_CHECK(name != "__metadata__", "a tensor may not be named __metadata__");
    std::uint64_t nbytes = static_cast<std::uint64_t>(t.numel()) * dtype_bytes(t.dtype);
    GLER_CHECK(nbytes == t.data.size(), "tensor '" << name << "' has " << t.data.size() << " bytes, its shape needs " << nbytes);
    json::Array shape(t.shape.begin(), t.shape.end());
    header_json.emplace_back(name, json::Object{{"dtype", t.dtype},
                                                {"shape", std::move(shape)},
                                                {"data_offsets", json::Array{offset, offset + nbytes}}});
    offset += nbytes;
  }
  // Compact, and padded with spaces to a multiple of 8 as Python's writer does.
  std::string header = json::dump(header_json);
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
