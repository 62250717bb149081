#include "weights_import/tfjs_manifest.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <set>

#include "core/error.h"
#include "core/half.h"
#include "io/json.h"
#include "weights_import/byte_reader.h"

namespace gler::wi {
namespace fs = std::filesystem;

namespace {

enum class Quant : std::uint8_t { none, uint8, uint16, float16 };

struct WeightSpec {
  std::string name, dtype;  // dtype as the manifest writes it: float32, int32, bool
  std::vector<std::int64_t> shape;
  std::int64_t numel = 0;
  Quant quant = Quant::none;
  double scale = 0, min = 0;
  std::uint64_t stored_bytes = 0;  // in the shards
};

std::int64_t dimension(const json::Value& v) {
  std::optional<std::int64_t> n;
  try {
    n = v.as_int();
  } catch (const Error&) {  // not an exact integer: reported below
  }
  GLER_CHECK(n && *n >= 0, "shape entries must be non-negative integers");
  return *n;
}

std::size_t element_bytes(const std::string& dtype, Quant q) {
  if (q == Quant::uint8) return 1;
  if (q == Quant::uint16 || q == Quant::float16) return 2;
  if (dtype == "float32" || dtype == "int32") return 4;
  if (dtype == "bool") return 1;
  GLER_FAIL("unsupported dtype '" << dtype << "' (expected float32, int32 or bool)");
}

WeightSpec weight_spec(const json::Value& w) {
  GLER_CHECK(w.is_object(), "a weight entry is a " << w.type_name() << ", expected an object");
  WeightSpec s;
  s.name = w.at("name").as_string();
  GLER_CHECK(!s.name.empty(), "a weight has an empty name");
  try {
    for (const auto& d : w.at("shape").as_array()) s.shape.push_back(dimension(d));
    s.numel = checked_numel(s.shape, "shape");
    s.dtype = w.at("dtype").as_string();
    if (const json::Value* q = w.find("quantization"); q && !q->is_null()) {
      const std::string& qd = q->at("dtype").as_string();
      if (qd == "uint8" || qd == "uint16") {
        s.quant = qd == "uint8" ? Quant::uint8 : Quant::uint16;
        GLER_CHECK(q->find("scale") && q->find("min"), qd << " quantisation needs `scale` and `min`");
        s.scale = q->at("scale").as_number();
        s.min = q->at("min").as_number();
        GLER_CHECK(s.dtype == "float32" || s.dtype == "int32",
                   qd << " quantisation of a " << s.dtype << " weight (tfjs dequantises to float32 or int32 only)");
      } else if (qd == "float16") {
        s.quant = Quant::float16;
        GLER_CHECK(s.dtype == "float32", "float16 quantisation of a " << s.dtype << " weight (float32 only)");
      } else {
        GLER_FAIL("unknown quantisation dtype '" << qd << "' (expected uint8, uint16 or float16)");
      }
      // Older converters record the dtype before quantisation; it must be the weight's own.
      if (const json::Value* orig = q->find("original_dtype"))
        GLER_CHECK(orig->as_string() == s.dtype,
                   "quantisation original_dtype '" << orig->as_string() << "' differs from dtype '" << s.dtype << "'");
    }
    const std::size_t eb = element_bytes(s.dtype, s.quant);
    GLER_CHECK(static_cast<std::uint64_t>(s.numel) <= std::numeric_limits<std::uint64_t>::max() / eb,
               "shape " << shape_str(s.shape) << " is too large");
    s.stored_bytes = static_cast<std::uint64_t>(s.numel) * eb;
  } catch (const Error& e) {
    throw Error("weight '" + s.name + "': " + e.what());
  }
  return s;
}

// A shard path must name a file below the manifest's folder, as a relative URL does.
void check_shard_path(const std::string& p) {
  GLER_CHECK(!p.empty(), "a shard path is empty");
  GLER_CHECK(p.find('\0') == std::string::npos, "shard path '" << p.c_str() << "...' holds a NUL byte");
  GLER_CHECK(p[0] != '/', "shard path '" << p << "' is absolute (shards must lie beside the manifest)");
  std::size_t begin = 0;
  while (begin <= p.size()) {
    std::size_t end = p.find('/', begin);
    if (end == std::string::npos) end = p.size();
    GLER_CHECK(p.compare(begin, end - begin, "..") != 0, "shard path '" << p << "' leaves the manifest's folder");
    begin = end + 1;
  }
}

// Math.round (ties towards +infinity), then the ToInt32 wrap an Int32Array store applies.
std::int32_t js_round_to_int32(double x) {
  if (!std::isfinite(x)) return 0;
  double r = std::floor(x);
  if (x - r >= 0.5) r += 1;
  double m = std::fmod(r, 4294967296.0);
  if (m < 0) m += 4294967296.0;
  if (m >= 2147483648.0) m -= 4294967296.0;
  return static_cast<std::int32_t>(m);
}

template <class T>
T load(const std::uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// decodeWeight: the stored bytes of one weight -> its values.
TensorData decode(const WeightSpec& s, const std::uint8_t* src) {
  TensorData t;
  t.shape = s.shape;
  t.dtype = s.dtype == "float32" ? "F32" : s.dtype == "int32" ? "I32" : "BOOL";
  const std::size_t n = static_cast<std::size_t>(s.numel);
  if (s.quant == Quant::none) {
    t.data.assign(src, src + s.stored_bytes);
    return t;
  }
  t.data.resize(n * 4);
  auto quantised = [&](std::size_t i) -> double {
    return s.quant == Quant::uint8 ? src[i] : load<std::uint16_t>(src + 2 * i);
  };
  for (std::size_t i = 0; i < n; ++i) {
    std::uint8_t* dst = t.data.data() + 4 * i;
    if (s.quant == Quant::float16) {
      const float f = f16_to_float(f16_t{load<std::uint16_t>(src + 2 * i)});
      std::memcpy(dst, &f, 4);
    } else if (t.dtype == "F32") {
      // JavaScript computes in double; the Float32Array store rounds once.
      const float f = static_cast<float>(quantised(i) * s.scale + s.min);
      std::memcpy(dst, &f, 4);
    } else {
      const std::int32_t v = js_round_to_int32(quantised(i) * s.scale + s.min);
      std::memcpy(dst, &v, 4);
    }
  }
  return t;
}

// Permutes the axes of a C-order tensor: output axis k is input axis perm[k].
TensorData permuted(const TensorData& t, const std::vector<int>& perm) {
  const std::size_t rank = t.shape.size(), eb = dtype_bytes(t.dtype);
  std::vector<std::int64_t> in_stride(rank, 1), out_shape(rank);
  for (std::size_t k = rank; k-- > 1;) in_stride[k - 1] = in_stride[k] * t.shape[k];
  for (std::size_t k = 0; k < rank; ++k) out_shape[k] = t.shape[static_cast<std::size_t>(perm[k])];
  TensorData out;
  out.dtype = t.dtype;
  out.shape = out_shape;
  out.data.resize(t.data.size());
  std::vector<std::int64_t> index(rank, 0);
  const std::int64_t n = t.numel();
  for (std::int64_t o = 0; o < n; ++o) {
    std::int64_t src = 0;
    for (std::size_t k = 0; k < rank; ++k) src += index[k] * in_stride[static_cast<std::size_t>(perm[k])];
    std::memcpy(out.data.data() + static_cast<std::size_t>(o) * eb, t.data.data() + static_cast<std::size_t>(src) * eb,
                eb);
    for (std::size_t k = rank; k-- > 0;) {  // next output index, last axis fastest
      if (++index[k] < out_shape[k]) break;
      index[k] = 0;
    }
  }
  return out;
}

std::string dotted(std::string s) {
  for (char& c : s)
    if (c == '/') c = '.';
  return s;
}

}  // namespace

bool looks_like_tfjs_manifest(const std::uint8_t* data, std::size_t size) {
  for (std::size_t i = 0; i < size; ++i) {
    const char c = static_cast<char>(data[i]);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    return c == '[' || c == '{';
  }
  return false;
}

StateDict parse_tfjs_manifest(std::string_view manifest, const ShardReader& read_shard) {
  StateDict sd;
  sd.format = SourceFormat::tfjs;
  std::set<std::string> names, paths;
  json::Value root;
  try {
    root = json::parse(manifest);
  } catch (const Error& e) {
    throw Error(std::string("TF.js weights manifest: ") + e.what());
  }
  const json::Value* groups = &root;
  if (root.is_object()) {
    groups = root.find("weightsManifest");
    GLER_CHECK(groups, "TF.js: a JSON object without `weightsManifest` (expected a weights manifest or a model.json)");
  }
  GLER_CHECK(groups->is_array(),
             "TF.js: the weights manifest is a " << groups->type_name() << ", expected a list of groups");
  const json::Array& group_list = groups->as_array();
  for (std::size_t g = 0; g < group_list.size(); ++g) {
    try {
      const json::Value& group = group_list[g];
      GLER_CHECK(group.is_object(), "is a " << group.type_name() << ", expected {\"paths\", \"weights\"}");
      std::vector<WeightSpec> specs;
      std::uint64_t needed = 0;
      for (const auto& w : group.at("weights").as_array()) {
        specs.push_back(weight_spec(w));
        GLER_CHECK(names.insert(specs.back().name).second, "weight '" << specs.back().name << "' appears twice");
        GLER_CHECK(specs.back().stored_bytes <= std::numeric_limits<std::uint64_t>::max() - needed,
                   "the weights' sizes overflow");
        needed += specs.back().stored_bytes;
      }
      // The group's bytes: its shards in order. Reading stops as soon as they exceed what the
      // weights need, so a manifest cannot make this hold more than one shard beyond it.
      std::vector<std::uint8_t> bytes;
      for (const auto& p : group.at("paths").as_array()) {
        const std::string& path = p.as_string();
        check_shard_path(path);
        GLER_CHECK(paths.insert(path).second, "shard '" << path << "' is listed twice");
        std::vector<std::uint8_t> shard = read_shard(path);
        bytes.insert(bytes.end(), shard.begin(), shard.end());
        GLER_CHECK(bytes.size() <= needed, "shards hold more than the " << needed << " bytes its weights take (at "
                                                                        << "shard '" << path << "', " << bytes.size()
                                                                        << " bytes)");
      }
      GLER_CHECK(bytes.size() == needed,
                 "shards truncated: its weights take " << needed << " bytes, the shards hold " << bytes.size());
      std::size_t offset = 0;
      for (const auto& s : specs) {
        sd.entries.emplace_back(s.name, decode(s, bytes.data() + offset));
        offset += static_cast<std::size_t>(s.stored_bytes);
      }
    } catch (const Error& e) {
      throw Error("TF.js weights group " + std::to_string(g) + ": " + e.what());
    }
  }
  return sd;
}

StateDict read_tfjs_manifest(const std::string& path) {
  const std::vector<std::uint8_t> text = read_file_bytes(path);
  const fs::path folder = fs::path(path).parent_path();
  return parse_tfjs_manifest({reinterpret_cast<const char*>(text.data()), text.size()}, [&](const std::string& shard) {
    const fs::path file = folder / shard;
    std::error_code ec;
    GLER_CHECK(fs::is_regular_file(file, ec), "shard '" << file.string() << "' is not a file beside the manifest");
    return read_file_bytes(file.string());
  });
}

StateDict tfjs_to_torch(StateDict sd) {
  std::set<std::string> tf_names, torch_names;
  for (const auto& e : sd.entries) tf_names.insert(e.first);
  StateDict out;
  out.metadata = std::move(sd.metadata);
  out.format = sd.format;
  for (auto& entry : sd.entries) {
    const std::string& name = entry.first;  // not a structured binding: clang 14's lambdas cannot capture those
    TensorData& t = entry.second;
    const std::size_t slash = name.rfind('/');
    const std::string prefix = slash == std::string::npos ? "" : name.substr(0, slash);
    const std::string leaf = slash == std::string::npos ? name : name.substr(slash + 1);
    const std::string p = dotted(prefix) + (prefix.empty() ? "" : ".");
    auto need_rank = [&](std::size_t rank, const char* layout) {
      GLER_CHECK(t.shape.size() == rank,
                 "TF.js weight '" << name << "' has shape " << shape_str(t.shape) << ", expected " << layout);
    };
    std::string torch_name;
    if (leaf == "filters") {
      need_rank(4, "(H, W, in, out)");
      t = permuted(t, {3, 2, 0, 1});
      torch_name = p + "weight";
    } else if (leaf == "depthwise_filter") {
      need_rank(4, "(H, W, channels, multiplier)");
      t = permuted(t, {2, 3, 0, 1});  // (C, M, H, W): output channel c·M + m, one input channel each
      t.shape = {t.shape[0] * t.shape[1], 1, t.shape[2], t.shape[3]};
      torch_name = p + "depthwise.weight";
    } else if (leaf == "pointwise_filter") {
      need_rank(4, "(1, 1, in, out)");
      t = permuted(t, {3, 2, 0, 1});
      torch_name = p + "pointwise.weight";
    } else if (leaf == "weights") {
      need_rank(2, "(in, out)");
      t = permuted(t, {1, 0});
      torch_name = p + "weight";
    } else if (leaf == "bias" && tf_names.contains(prefix + "/pointwise_filter")) {
      torch_name = p + "pointwise.bias";
    } else {
      torch_name = dotted(name);
    }
    GLER_CHECK(torch_names.insert(torch_name).second,
               "TF.js weight '" << name << "' becomes '" << torch_name << "', a name another weight already has");
    out.entries.emplace_back(std::move(torch_name), std::move(t));
  }
  return out;
}

}  // namespace gler::wi
