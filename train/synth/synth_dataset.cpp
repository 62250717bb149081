#include "train/synth/synth_dataset.h"

#include <optional>
#include <system_error>
#include <vector>

#include "core/error.h"
#include "io/files.h"
#include "io/image.h"
#include "io/json.h"
#include "models/faces/face_layout.h"
#include "models/faces/face_outputs.h"
#include "train/synth/pickle_list.h"
#include "train/synth/synth_plan.h"
#include "train/synth/synth_scene.h"

namespace fs = std::filesystem;
namespace faces = gler::models::faces;

namespace gler::synth {
namespace {

constexpr const char* kLabelRule =
    "the label is drawn first (balanced within each split), then the faces; the label's expression "
    "(frown: Negative, straight: Neutral, smile: Positive) is shown by more faces than either other; "
    "an image without faces is Neutral";

// Removes `dir` and the folders above it, up to `top` (kept), while they are empty.
void remove_empty_folders(fs::path dir, const fs::path& top) {
  std::error_code ec;
  for (; dir != top && dir.has_relative_path() && fs::is_directory(dir, ec) && fs::is_empty(dir, ec); dir = dir.parent_path())
    fs::remove(dir, ec);
}

// An image of an earlier run and everything gler_faces-style it had, with the folders that held
// nothing else: a rerun with fewer images leaves exactly this run's tree.
void remove_image_outputs(const fs::path& out, const fs::path& relative) {
  std::vector<fs::path> files{out / "emotiw" / relative};
  if (const std::optional<faces::FaceOutputPaths> paths = faces::emotiw_face_outputs(out, relative)) {
    files.insert(files.end(), {paths->json, paths->features, paths->coordinates});
    for (std::size_t i = 0; fs::exists(faces::crop_path(*paths, faces::CropFormat::jpg, i)); ++i)
      files.push_back(faces::crop_path(*paths, faces::CropFormat::jpg, i));
  }
  for (const fs::path& file : files) {
    io::remove_if_exists(file);
    remove_empty_folders(file.parent_path(), out);
  }
}

json::Value manifest(const SynthOptions& options, json::Array images, bool complete) {
  json::Value v;
  v.set("generator", "gler_synth");
  v.set("seed", std::to_string(options.seed));  // a string: JSON numbers cannot hold every uint64
  v.set("train", options.train);
  v.set("val", options.val);
  v.set("max_faces_per_image", options.max_faces);
  v.set("faceless", options.faceless);
  v.set("align", faces::align_mode_name(options.align));
  v.set("photo_jpeg_quality", kPhotoJpegQuality);
  v.set("face_score", kSynthScore);
  v.set("label_rule", kLabelRule);
  v.set("complete", complete);
  v.set("images", std::move(images));
  return v;
}

json::Value image_entry(const SynthImage& image) {
  json::Value v;
  v.set("image", (fs::path("emotiw") / image.relative()).generic_string());
  v.set("split", image.split);
  v.set("label", kLabelNames[image.label]);
  return v;
}

// Clears what an earlier run left and records this run's plan, so that a run cut short is cleaned
// up by the next one.
void prepare(const SynthOptions& options, const std::vector<SynthImage>& plan) {
  const fs::path manifest_path = options.out / kManifestName;
  std::error_code ec;
  if (fs::exists(manifest_path, ec)) {
    const json::Value old = json::parse_file(manifest_path.string());
    for (const json::Value& image : old.at("images").as_array()) {
      const fs::path relative = fs::path(image.at("image").as_string()).lexically_relative("emotiw");
      GLER_CHECK(!relative.empty() && *relative.begin() != "..", manifest_path.string() << ": image outside emotiw/: "
                                                                                        << image.at("image").as_string());
      remove_image_outputs(options.out, relative);
    }
  } else {
    GLER_CHECK(!fs::exists(options.out / "emotiw", ec),
               (options.out / "emotiw").string() << " exists and was not written by gler_synth (no " << kManifestName
                                                 << " beside it): choose another --out");
  }
  io::make_folders(options.out);
  json::Array images;
  for (const SynthImage& image : plan) images.push_back(image_entry(image));
  io::write_text_atomic(manifest_path, json::dump(manifest(options, std::move(images), false), 1) + "\n");
}

json::Value write_image(const SynthOptions& options, const SynthImage& image, const faces::MtcnnDetector& detector,
                        const faces::FaceOutputSettings& settings) {
  SynthRandom random(options.seed, image.stream());
  const Scene scene = make_scene(random, image.label, options.max_faces, options.faceless);
  const fs::path photo = options.out / "emotiw" / image.relative();
  const std::vector<std::uint8_t> jpeg = io::encode_jpeg(scene.image, kPhotoJpegQuality);
  io::make_folders(photo.parent_path());
  io::write_bytes_atomic(photo, jpeg);

  // Features and crops come from the photo as gler_faces would read it back.
  const io::Image decoded = io::decode_image(jpeg, photo.string());
  GLER_CHECK(decoded.channels == 3, photo.string() << ": decoded with " << decoded.channels << " channels");
  // The detector's features come from its O-Net input box, the square about the face's box.
  std::vector<std::array<double, 4>> input_boxes;
  for (const SceneFace& f : scene.faces) input_boxes.push_back(faces::onet_input_box(f.box));
  const std::vector<std::vector<float>> features = detector.onet_features(decoded, input_boxes);

  faces::FaceRecord record;
  record.image = photo.string();
  record.width = decoded.width;
  record.height = decoded.height;
  record.mode = "RGB";
  json::Array drawn;
  for (std::size_t i = 0; i < scene.faces.size(); ++i) {
    const SceneFace& drawn_face = scene.faces[i];
    faces::DetectedFace face;
    face.box = drawn_face.box;
    face.score = kSynthScore;
    face.landmarks = drawn_face.landmarks;
    face.feature = features[i];
    record.faces.push_back(std::move(face));
    json::Value d;
    d.set("box", json::Array(drawn_face.box.begin(), drawn_face.box.end()));
    d.set("expression", expression_name(drawn_face.look.expression));
    drawn.push_back(std::move(d));
  }
  std::vector<faces::AlignedFace> aligned = faces::align_faces(decoded, record.faces, options.align);
  // Seed alignment skips a whole image when a landmark coordinate is exactly 0 (align.h), as extract_faces allows.
  GLER_CHECK(aligned.size() == record.faces.size() || (aligned.empty() && options.align == faces::AlignMode::seed),
             photo.string() << ": alignment gave " << aligned.size() << " crops for " << record.faces.size() << " faces");
  for (faces::AlignedFace& a : aligned) record.crops.push_back(std::move(a.image));
  const std::optional<faces::FaceOutputPaths> paths = faces::emotiw_face_outputs(options.out, image.relative());
  GLER_CHECK(paths, image.relative().string() << ": not in the EmotiW layout");
  faces::write_face_outputs(record, *paths, settings);

  json::Value entry = image_entry(image);
  entry.set("width", scene.image.width);
  entry.set("height", scene.image.height);
  entry.set("background", scene.background);
  entry.set("faces", std::move(drawn));
  return entry;
}

void write_list(const fs::path& out, const std::string& name, const std::vector<std::string>& names) {
  io::write_bytes_atomic(out / name, pickle_str_list(names));
  std::string text;
  for (const std::string& n : names) text += n + "\n";
  io::write_text_atomic(out / (name + ".txt"), text);
}

}  // namespace

SynthSummary write_synth_dataset(const SynthOptions& options, const faces::MtcnnDetector& detector,
                                 const std::function<void(std::size_t faces)>& on_image) {
  GLER_CHECK(options.faceless >= 0 && options.faceless <= 1,
             "--faceless must be a probability from 0 to 1, got " << options.faceless);
  GLER_CHECK(options.max_faces >= 1 && options.max_faces <= kMaxFacesPerImage,
             "--max-faces-per-image must be from 1 to " << kMaxFacesPerImage << ", got " << options.max_faces);
  GLER_CHECK(options.train + options.val > 0, "nothing to write: --train and --val are both 0");
  const std::vector<SynthImage> plan = plan_synth_images(options.train, options.val);
  prepare(options, plan);

  faces::FaceOutputSettings settings;
  settings.extraction.align = options.align;
  settings.detector = detector.options();
  SynthSummary summary;
  json::Array images;
  for (const SynthImage& image : plan) {
    json::Value entry = write_image(options, image, detector, settings);
    const std::size_t n = entry.at("faces").as_array().size();
    images.push_back(std::move(entry));
    summary.faces += n;
    ++summary.images;
    on_image(n);
  }
  const ValSplit lists = split_val(plan);
  write_list(options.out, "val_list", lists.val_list);
  write_list(options.out, "test_list", lists.test_list);
  summary.val_list = lists.val_list.size();
  summary.test_list = lists.test_list.size();
  io::write_text_atomic(options.out / kManifestName, json::dump(manifest(options, std::move(images), true), 1) + "\n");
  return summary;
}

}  // namespace gler::synth
