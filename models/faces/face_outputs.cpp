#include "models/faces/face_outputs.h"

#include <system_error>

#include "core/error.h"
#include "io/files.h"
#include "io/npz.h"

namespace fs = std::filesystem;

namespace gler::models::faces {

namespace {

constexpr std::int64_t kFeatureDim = 256;  // O-Net's penultimate layer (SEED_SPEC §3.6)

// Paths inside the JSON are relative to the JSON's folder, so an output tree can be moved whole.
std::string relative_to_json(const FaceOutputPaths& paths, const fs::path& file) {
  return file.lexically_relative(paths.json.parent_path()).generic_string();
}

void make_parent(const fs::path& file) {
  if (!file.parent_path().empty()) io::make_folders(file.parent_path());
}

// Crops first..., as long as they exist: what a previous run with more faces left behind.
void remove_crops_from(const FaceOutputPaths& paths, CropFormat format, std::size_t first) {
  for (std::size_t i = first;; ++i) {
    const fs::path crop = crop_path(paths, format, i);
    if (!fs::exists(crop)) break;
    io::remove_if_exists(crop);
  }
}

json::Array number_array(std::initializer_list<double> values) { return json::Array(values.begin(), values.end()); }

json::Value face_json(const DetectedFace& face, const std::string& crop) {
  json::Array landmarks;
  // float -> double is exact, and the JSON writer's shortest double form reads back to that same
  // double, hence to the same float.
  for (const Point& p : face.landmarks) landmarks.emplace_back(number_array({p.x, p.y}));
  json::Value v;
  v.set("box", number_array({face.box[0], face.box[1], face.box[2], face.box[3]}));
  v.set("score", face.score);
  v.set("landmarks", std::move(landmarks));
  if (!crop.empty()) v.set("crop", crop);
  return v;
}

void write_json_last(const FaceOutputPaths& paths, json::Value record) {
  make_parent(paths.json);
  io::write_text_atomic(paths.json, json::dump(record, 1) + "\n");
}

}  // namespace

CropFormat parse_crop_format(const std::string& name) {
  if (name == "jpg") return CropFormat::jpg;
  if (name == "png") return CropFormat::png;
  GLER_FAIL("crop format must be jpg or png, got '" << name << "'");
}

const char* crop_format_name(CropFormat format) { return format == CropFormat::jpg ? "jpg" : "png"; }

json::Value settings_json(const FaceOutputSettings& settings) {
  const MtcnnOptions& d = settings.detector;
  json::Value v;
  v.set("align", align_mode_name(settings.extraction.align));
  v.set("crop_format", settings.extraction.crops ? json::Value(crop_format_name(settings.crop_format)) : json::Value());
  v.set("exif_rotate", settings.extraction.decode.exif_rotate);
  v.set("min_face", d.min_face_size);
  v.set("scale_factor", d.scale_factor);
  v.set("thresholds", number_array({d.thresholds[0], d.thresholds[1], d.thresholds[2]}));
  v.set("nms_thresholds", number_array({d.nms_thresholds[0], d.nms_thresholds[1], d.nms_thresholds[2]}));
  v.set("feature_indexing", d.seed_feature_indexing ? "seed" : "own");
  return v;
}

fs::path crop_path(const FaceOutputPaths& paths, CropFormat format, std::size_t index) {
  fs::path p = paths.crop_prefix;
  p += '_' + std::to_string(index);
  p += '.';
  p += crop_format_name(format);
  return p;
}

void write_face_outputs(const FaceRecord& record, const FaceOutputPaths& paths, const FaceOutputSettings& settings) {
  const std::size_t n = record.faces.size();
  const bool crops = settings.extraction.crops;
  // No crops for faces is the seed alignment's whole-image skip (models/faces/align.h).
  GLER_CHECK(!crops || record.crops.size() == n || record.crops.empty(),
             record.image << ": " << record.crops.size() << " crops for " << n << " faces");
  io::remove_if_exists(paths.json);  // from here until the new JSON lands, the image reads as not done

  std::vector<std::string> crop_names(n);
  if (crops) {
    make_parent(crop_path(paths, settings.crop_format, 0));
    for (std::size_t i = 0; i < record.crops.size(); ++i) {
      const fs::path crop = crop_path(paths, settings.crop_format, i);
      if (settings.crop_format == CropFormat::jpg)
        io::write_jpeg(record.crops[i], crop.string(), 75);
      else
        io::write_png(record.crops[i], crop.string());
      crop_names[i] = relative_to_json(paths, crop);
    }
  }
  remove_crops_from(paths, settings.crop_format, crops ? record.crops.size() : 0);

  std::vector<float> features;
  features.reserve(n * kFeatureDim);
  for (const DetectedFace& f : record.faces) {
    GLER_CHECK(static_cast<std::int64_t>(f.feature.size()) == kFeatureDim,
               record.image << ": expected a " << kFeatureDim << "-d O-Net feature per face, got " << f.feature.size());
    features.insert(features.end(), f.feature.begin(), f.feature.end());
  }
  const auto rows = static_cast<std::int64_t>(n);
  make_parent(paths.features);
  io::write_npz(paths.features, {io::npy_f32("a", {rows, kFeatureDim}, features)});

  if (!paths.coordinates.empty()) {
    // The seed's FaceCoordinates: a = [x1, y1, x2, y2, score] per face, b = the five x's, then the five y's.
    std::vector<double> boxes;
    std::vector<float> landmarks;
    for (const DetectedFace& f : record.faces) {
      boxes.insert(boxes.end(), {f.box[0], f.box[1], f.box[2], f.box[3], f.score});
      for (const Point& p : f.landmarks) landmarks.push_back(p.x);
      for (const Point& p : f.landmarks) landmarks.push_back(p.y);
    }
    make_parent(paths.coordinates);
    io::write_npz(paths.coordinates, {io::npy_f64("a", {rows, 5}, boxes), io::npy_f32("b", {rows, 10}, landmarks)});
  }

  json::Array faces;
  for (std::size_t i = 0; i < n; ++i) faces.push_back(face_json(record.faces[i], crop_names[i]));
  json::Value v;
  v.set("image", record.image);
  v.set("width", record.width);
  v.set("height", record.height);
  v.set("mode", record.mode);
  v.set("faces", std::move(faces));
  v.set("features", relative_to_json(paths, paths.features));
  if (!paths.coordinates.empty()) v.set("coordinates", relative_to_json(paths, paths.coordinates));
  v.set("error", json::Value());
  v.set("settings", settings_json(settings));
  write_json_last(paths, std::move(v));
}

void write_face_error(const std::string& image, const std::string& message, const FaceOutputPaths& paths,
                      const FaceOutputSettings& settings) {
  io::remove_if_exists(paths.json);
  io::remove_if_exists(paths.features);
  if (!paths.coordinates.empty()) io::remove_if_exists(paths.coordinates);
  remove_crops_from(paths, settings.crop_format, 0);
  json::Value v;
  v.set("image", image);
  v.set("faces", json::Array());
  v.set("error", message);
  v.set("settings", settings_json(settings));
  write_json_last(paths, std::move(v));
}

bool face_outputs_complete(const FaceOutputPaths& paths, const FaceOutputSettings& settings) {
  std::error_code ec;
  if (!fs::is_regular_file(paths.json, ec)) return false;
  json::Value v;
  try {
    v = json::parse_file(paths.json.string());
  } catch (const Error&) {
    return false;  // not a JSON we finished writing (or someone edited it): redo the image
  }
  if (!v.is_object()) return false;
  const json::Value *error = v.find("error"), *recorded = v.find("settings"), *faces = v.find("faces");
  if (error == nullptr || !error->is_null() || recorded == nullptr || faces == nullptr || !faces->is_array()) return false;
  if (json::dump(*recorded) != json::dump(settings_json(settings))) return false;
  if (!fs::is_regular_file(paths.features, ec)) return false;
  if (!paths.coordinates.empty() && !fs::is_regular_file(paths.coordinates, ec)) return false;
  if (settings.extraction.crops)
    for (std::size_t i = 0; i < faces->as_array().size(); ++i)
      if (faces->as_array()[i].find("crop") && !fs::is_regular_file(crop_path(paths, settings.crop_format, i), ec))
        return false;
  return true;
}

}  // namespace gler::models::faces
