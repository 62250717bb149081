// ModelInfo <-> safetensors metadata, make_model's dispatch to the family builders, load_model.
#include <algorithm>

#include "core/error.h"
#include "models/checkpoint.h"
#include "models/gler/archs.h"
#include "models/gler/gler_model.h"
#include "weights_import/safetensors.h"

namespace gler::models {
namespace {

// What the other archs gler_import writes are, for the error that refuses them.
std::string describe_other_arch(const std::string& arch) {
  if (arch.rfind("densenet", 0) == 0) return "a bare " + arch + " (an image backbone)";
  if (arch == "sphere20a") return "a bare sphere20a (a face backbone)";
  if (arch == "mtcnn") return "the MTCNN face detector's weights";
  return "an unknown arch";
}

std::string archs_list() {
  std::string out;
  for (const std::string& a : gler_archs()) out += (out.empty() ? "" : ", ") + a;
  return out;
}

bool parse_flag(const std::map<std::string, std::string>& metadata, const char* key, bool fallback) {
  const auto it = metadata.find(key);
  if (it == metadata.end()) return fallback;
  GLER_CHECK(it->second == "0" || it->second == "1",
             "model metadata '" << key << "' must be 0 or 1, got '" << it->second << "'");
  return it->second == "1";
}

}  // namespace

const std::vector<std::string>& gler_archs() {
  static const std::vector<std::string> archs{"global",      "local",       "average",
                                              "attention_a", "attention_b", "attention_c"};
  return archs;
}

void ModelInfo::check() const {
  const auto& archs = gler_archs();
  GLER_CHECK(arch == "default" || std::find(archs.begin(), archs.end(), arch) != archs.end(),
             "arch '" << arch << "' is " << describe_other_arch(arch)
                      << ", not a group-emotion model; gler_infer needs one of " << archs_list());
  GLER_CHECK(!emotic || arch == "attention_b" || arch == "attention_c",
             "emotic applies to attention_b and attention_c only, not to " << arch);
  GLER_CHECK(local_head == "linear" || local_head == "lsoftmax" || local_head == "asoftmax",
             "local_head (fc6) must be linear, lsoftmax or asoftmax, got '" << local_head << "'");
  GLER_CHECK(max_faces >= 1, "max_faces must be at least 1, got " << max_faces);
}

ModelInfo ModelInfo::from_metadata(const std::map<std::string, std::string>& metadata) {
  ModelInfo info;
  if (const auto it = metadata.find("arch"); it != metadata.end()) info.arch = it->second;
  info.seed_compat = parse_flag(metadata, "seed_compat", info.seed_compat);
  info.emotic = parse_flag(metadata, "emotic", info.emotic);
  if (const auto it = metadata.find("fc6"); it != metadata.end()) info.local_head = it->second;
  if (const auto it = metadata.find("max_faces"); it != metadata.end()) {
    const std::string& v = it->second;
    const bool digits =
        !v.empty() && v.size() <= 6 && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
    GLER_CHECK(digits, "model metadata 'max_faces' must be a positive integer, got '" << v << "'");
    info.max_faces = std::stoi(v);
  }
  info.check();
  return info;
}

std::map<std::string, std::string> ModelInfo::to_metadata() const {
  return {{"arch", arch},
          {"seed_compat", seed_compat ? "1" : "0"},
          {"emotic", emotic ? "1" : "0"},
          {"fc6", local_head},
          {"max_faces", std::to_string(max_faces)}};
}

std::unique_ptr<GlerModel> make_model(const ModelInfo& info, Generator& gen, const ModelShapes& shapes) {
  info.check();
  if (info.arch == "global") return make_global_model(info, gen, shapes);
  if (info.arch == "local") return make_local_model(info, gen, shapes);
  if (info.arch == "average") return make_average_model(info, gen, shapes);
  if (info.arch == "default") return make_expression_model(info, gen);
  return make_attention_model(info, gen, shapes);
}

std::unique_ptr<GlerModel> load_model(const std::string& path, Device device) {
  std::map<std::string, std::string> metadata;
  try {
    metadata = wi::read_safetensors_metadata(path);
  } catch (const Error& e) {
    GLER_FAIL(e.what() << ": not a readable safetensors model (gler_infer reads the models gler_import and gler_train write)");
  }
  GLER_CHECK(metadata.contains("arch"), path << " records no arch in its metadata; gler_infer needs a model written by "
                                                "gler_import or gler_train (one of "
                                             << archs_list() << ")");
  ModelInfo info;
  ModelShapes shapes;
  try {
    if (metadata.at("arch") == "face_expression") {
      // face-api's expression weights make the zero-shot default; a crowd's faces all count.
      info.arch = "default";
      info.max_faces = kDefaultMaxFaces;
    } else {
      info = ModelInfo::from_metadata(metadata);
    }
    shapes = shapes_from_metadata(metadata);
  } catch (const Error& e) {
    GLER_FAIL(path << ": " << e.what());
  }
  // Every tensor is overwritten by the file: the draws only fill the model until then.
  Generator gen(0);
  std::unique_ptr<GlerModel> model = make_model(info, gen, shapes);
  load_weights(*model, path);
  model->to(device);
  model->eval();
  return model;
}

std::string default_model_path() { return std::string(GLER_DATA_DIR) + "/default/face_expression.safetensors"; }

}  // namespace gler::models
