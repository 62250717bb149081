// ModelShapes <-> the "shapes" entry of a model file's metadata. The reader treats the file as
// hostile: every value is range-checked and the whole model's size is capped before anything is
// built, so a bad file gives an error, never a crash or a giant allocation.
#include "models/gler/model_shapes.h"

#include <cmath>
#include <string_view>

#include "core/error.h"
#include "io/json.h"

namespace gler::models {
namespace {

constexpr std::int64_t kMaxWidth = 4096;  // channels, feature sizes, image and face sides
constexpr std::int64_t kMaxGrowth = 1024, kMaxBnSize = 64;
constexpr std::size_t kMaxBlocks = 8;
constexpr std::int64_t kMaxLayersPerBlock = 256;
// The per-field caps still allow enormous models (a 4096-wide fc5 on 4096-pixel faces), so the
// total is capped too: at most this many times the full-size model's weights.
constexpr double kMaxSizeFactor = 8;

// The integer fields, in the order they are written; each in [1, max].
template <class Owner>
struct IntField {
  const char* key;
  std::int64_t Owner::*member;
  std::int64_t max;
};

constexpr IntField<DenseNetConfig> kDenseNetInts[] = {
    {"growth_rate", &DenseNetConfig::growth_rate, kMaxGrowth},
    {"num_init_features", &DenseNetConfig::num_init_features, kMaxWidth},
    {"bn_size", &DenseNetConfig::bn_size, kMaxBnSize},
};

constexpr IntField<ModelShapes> kShapeInts[] = {
    {"image_size", &ModelShapes::image_size, kMaxWidth},
    {"sphere_feature_dim", &ModelShapes::sphere_feature_dim, kMaxWidth},
    {"face_long", &ModelShapes::face_long, kMaxWidth},
    {"face_short", &ModelShapes::face_short, kMaxWidth},
    {"onet_dim", &ModelShapes::onet_dim, kMaxWidth},
    {"head_dim", &ModelShapes::head_dim, kMaxWidth},
    {"attention_dim", &ModelShapes::attention_dim, kMaxWidth},
};

template <class Owner, std::size_t N>
const IntField<Owner>* find_field(const IntField<Owner> (&fields)[N], std::string_view key) {
  for (const IntField<Owner>& f : fields)
    if (key == f.key) return &f;
  return nullptr;
}

// A number as written, anything else by its type (a hostile string could be long).
std::string describe(const json::Value& v) {
  if (v.is_number()) return json::dump(v);
  return (v.is_array() || v.is_object() ? "an " : "a ") + std::string(v.type_name());
}

std::int64_t read_int(const json::Value& v, const std::string& key, std::int64_t max) {
  const bool ok = v.is_number() && std::trunc(v.as_number()) == v.as_number() && v.as_number() >= 1 &&
                  v.as_number() <= static_cast<double>(max);
  GLER_CHECK(ok, "'" << key << "' must be an integer in [1, " << max << "], got " << describe(v));
  return static_cast<std::int64_t>(v.as_number());
}

const json::Array& read_array(const json::Value& v, const std::string& key, std::size_t min, std::size_t max) {
  const bool ok = v.is_array() && v.as_array().size() >= min && v.as_array().size() <= max;
  GLER_CHECK(ok, "'" << key << "' must be an array of " << min << (min == max ? "" : " to " + std::to_string(max))
                     << " integers, got "
                     << (v.is_array() ? std::to_string(v.as_array().size()) + " entries" : describe(v)));
  return v.as_array();
}

void read_densenet(const json::Value& v, DenseNetConfig& d) {
  GLER_CHECK(v.is_object(), "'densenet' must be an object, got " << describe(v));
  for (const auto& [key, value] : v.as_object()) {
    const std::string name = "densenet." + key;
    if (const IntField<DenseNetConfig>* f = find_field(kDenseNetInts, key)) {
      d.*f->member = read_int(value, name, f->max);
    } else if (key == "block_config") {
      const json::Array& blocks = read_array(value, name, 1, kMaxBlocks);
      d.block_config.clear();
      for (std::size_t i = 0; i < blocks.size(); ++i)
        d.block_config.push_back(
            static_cast<int>(read_int(blocks[i], name + "[" + std::to_string(i) + "]", kMaxLayersPerBlock)));
    } else if (key == "drop_rate") {
      const bool ok = value.is_number() && value.as_number() >= 0 && value.as_number() < 1;
      GLER_CHECK(ok, "'" << name << "' must be a number in [0, 1), got " << describe(value));
      d.drop_rate = value.as_number();
    } else {
      GLER_FAIL("unknown key '" << name << "'");
    }
  }
}

// The weights of the convolutions and linear layers (what dominates the size) of the DenseNet
// features, the sphere20a trunk and the widest heads the shapes give any arch. In doubles: the
// capped fields can still multiply past int64.
double weight_count(const ModelShapes& s) {
  const DenseNetConfig& d = s.densenet;
  const double bottleneck = static_cast<double>(d.bn_size * d.growth_rate);
  double n = 3.0 * 49 * static_cast<double>(d.num_init_features);  // conv0 7x7
  double channels = static_cast<double>(d.num_init_features);
  for (std::size_t b = 0; b < d.block_config.size(); ++b) {
    for (int l = 0; l < d.block_config[b]; ++l) {  // conv1 1x1, conv2 3x3
      n += channels * bottleneck + 9 * bottleneck * static_cast<double>(d.growth_rate);
      channels += static_cast<double>(d.growth_rate);
    }
    if (b + 1 < d.block_config.size()) {  // transition 1x1 to half the channels
      n += channels * std::floor(channels / 2);
      channels = std::floor(channels / 2);
    }
  }
  const double heads = static_cast<double>(s.head_dim + s.attention_dim + 3);
  n += channels * heads;

  constexpr int kUnits[] = {1, 2, 4, 1};  // sphere20a's residual units per stage, two 3x3 convs each
  double in = 3;
  for (std::size_t i = 0; i < 4; ++i) {
    const auto width = static_cast<double>(s.sphere_widths[i]);
    n += 9 * in * width + 2 * kUnits[i] * 9 * width * width;
    in = width;
  }
  // Four 3x3 stride-2 pad-1 convs: n -> (n - 1) / 2 + 1 each.
  const auto extent = [](std::int64_t x) {
    for (int i = 0; i < 4; ++i) x = (x - 1) / 2 + 1;
    return static_cast<double>(x);
  };
  const auto feature = static_cast<double>(s.sphere_feature_dim);
  n += in * extent(s.face_long) * extent(s.face_short) * feature + feature * heads;
  return n;
}

}  // namespace

std::map<std::string, std::string> shapes_to_metadata(const ModelShapes& shapes) {
  const ModelShapes defaults;
  ModelShapes recorded = shapes;
  recorded.densenet.num_classes = defaults.densenet.num_classes;
  if (recorded == defaults) return {};
  json::Value densenet;
  for (const auto& f : kDenseNetInts) densenet.set(f.key, shapes.densenet.*f.member);
  densenet.set("block_config", json::Array(shapes.densenet.block_config.begin(), shapes.densenet.block_config.end()));
  densenet.set("drop_rate", shapes.densenet.drop_rate);
  json::Value root;
  root.set("densenet", std::move(densenet));
  root.set("sphere_widths", json::Array(shapes.sphere_widths.begin(), shapes.sphere_widths.end()));
  for (const auto& f : kShapeInts) root.set(f.key, shapes.*f.member);
  std::map<std::string, std::string> metadata{{"shapes", json::dump(root)}};
  shapes_from_metadata(metadata);  // refuse now a file load_model would refuse
  return metadata;
}

ModelShapes shapes_from_metadata(const std::map<std::string, std::string>& metadata) {
  ModelShapes s;
  const auto it = metadata.find("shapes");
  if (it == metadata.end()) return s;
  try {
    const json::Value root = json::parse(it->second);
    GLER_CHECK(root.is_object(), "must be a JSON object, got " << describe(root));
    for (const auto& [key, value] : root.as_object()) {
      if (const IntField<ModelShapes>* f = find_field(kShapeInts, key)) {
        s.*f->member = read_int(value, key, f->max);
      } else if (key == "densenet") {
        read_densenet(value, s.densenet);
      } else if (key == "sphere_widths") {
        const json::Array& widths = read_array(value, key, 4, 4);
        for (std::size_t i = 0; i < 4; ++i)
          s.sphere_widths[i] = read_int(widths[i], key + "[" + std::to_string(i) + "]", kMaxWidth);
      } else {
        GLER_FAIL("unknown key '" << key << "'");
      }
    }
    const double weights = weight_count(s), full = weight_count(ModelShapes{});
    GLER_CHECK(weights <= kMaxSizeFactor * full, "the shapes give about "
                                                     << std::llround(weights / 1e6) << " million weights, more than "
                                                     << kMaxSizeFactor << "x the full-size model's "
                                                     << std::llround(full / 1e6) << " million");
  } catch (const Error& e) {
    GLER_FAIL("model metadata 'shapes': " << e.what());
  }
  return s;
}

}  // namespace gler::models
