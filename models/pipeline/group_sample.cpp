#include "models/pipeline/group_sample.h"

#include <algorithm>
#include <cstring>
#include <system_error>

#include "core/error.h"
#include "io/preprocess.h"
#include "models/faces/align.h"
#include "models/face_expression.h"
#include "models/faces/face_layout.h"
#include "weights_import/npy.h"

namespace fs = std::filesystem;

namespace gler::models::pipeline {
namespace {

constexpr std::int64_t kFeatureDim = 256;

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// The crops' common prefix: DIR/<relative folder>/<stem>, with the seed's first-'.' stem when only
// that one has files.
fs::path crop_prefix(const fs::path& dir, const fs::path& relative) {
  const fs::path folder = dir / relative.parent_path();
  const fs::path plain = folder / relative.stem();
  const fs::path seed = folder / faces::seed_stem(relative);
  if (!is_file(fs::path(plain).concat("_0.jpg")) && is_file(fs::path(seed).concat("_0.jpg"))) return seed;
  return plain;
}

// A crop at the model's face size (the seed's Resize((96, 112)) of a 112x96 file is the identity;
// any other size is resized the same way, Pillow BILINEAR).
io::Image to_face_size(io::Image crop, const ModelInfo& model) {
  const int w = static_cast<int>(model.face_width()), h = static_cast<int>(model.face_height());
  if (crop.channels == 4) crop = io::to_rgb(crop);
  return crop.width == w && crop.height == h ? crop : io::resize_pillow(crop, w, h);
}

// The seed's aligner saved crops with PIL at quality 75 and its dataset read them back: its
// models saw the JPEG-compressed pixels.
io::Image seed_jpeg_round_trip(const io::Image& crop) { return io::decode_image(io::encode_jpeg(crop, 75), "aligned crop"); }

}  // namespace

void add_face_crops(GroupSample& s, const std::vector<io::Image>& crops, const ModelInfo& model) {
  s.faces_used = static_cast<int>(std::min<std::size_t>(crops.size(), static_cast<std::size_t>(model.max_faces)));
  const std::size_t face_values = static_cast<std::size_t>(3 * model.face_height() * model.face_width());
  s.face_pixels.assign(face_values * static_cast<std::size_t>(s.faces_used), 0.0f);
  for (int i = 0; i < s.faces_used; ++i)
    io::face_tensor(to_face_size(crops[static_cast<std::size_t>(i)], model), model.seed_compat,
                    s.face_pixels.data() + face_values * static_cast<std::size_t>(i));
}

void add_face_features(GroupSample& s, const std::vector<std::vector<float>>& features, const ModelInfo& model) {
  s.faces_used = static_cast<int>(std::min<std::size_t>(features.size(), static_cast<std::size_t>(model.max_faces)));
  s.face_features.clear();
  for (int i = 0; i < s.faces_used; ++i) {
    const std::vector<float>& f = features[static_cast<std::size_t>(i)];
    GLER_CHECK(static_cast<std::int64_t>(f.size()) == kFeatureDim,
               s.image << ": face feature " << i << " has " << f.size() << " values, expected " << kFeatureDim);
    s.face_features.insert(s.face_features.end(), f.begin(), f.end());
  }
}

std::vector<std::vector<float>> read_face_features(const fs::path& npz, const std::string& image) {
  GLER_CHECK(is_file(npz), image << ": no face features " << npz.string() << " (the average model needs the O-Net features "
                                 << "gler_faces writes; see --face-features)");
  const auto arrays = wi::read_npz(npz.string());
  const auto it = arrays.find("a");
  GLER_CHECK(it != arrays.end(), npz.string() << ": no array 'a'");
  const Tensor a = wi::to_tensor(it->second, DType::f32);
  GLER_CHECK(a.ndim() == 2 && a.size(1) == kFeatureDim,
             npz.string() << ": 'a' must be (n, " << kFeatureDim << "), got " << a.shape().str());
  const std::vector<float> v = a.to_vector<float>();
  std::vector<std::vector<float>> rows;
  for (std::int64_t i = 0; i < a.size(0); ++i)
    rows.emplace_back(v.begin() + i * kFeatureDim, v.begin() + (i + 1) * kFeatureDim);
  return rows;
}

GroupSample prepare_sample(const ImageInput& input, const SampleOptions& options, const faces::MtcnnDetector* detector) {
  const ModelInfo& model = options.model;
  GroupSample s;
  s.image = input.path;
  const io::Image decoded = io::read_image(input.path, options.decode);
  s.width = decoded.width;
  s.height = decoded.height;
  if (model.uses_image()) {
    s.global.resize(3 * static_cast<std::size_t>(io::kGlobalImageSize) * io::kGlobalImageSize);
    io::global_image_tensor(decoded, model.seed_compat, s.global.data());
  }
  const bool needs_faces = model.uses_faces() || model.uses_face_features();
  const io::Image rgb = decoded.channels == 3 || !(needs_faces || options.keep_picture) ? io::Image() : io::to_rgb(decoded);
  const io::Image& picture = decoded.channels == 3 ? decoded : rgb;
  if (options.keep_picture) s.picture = picture;
  if (!needs_faces) return s;

  if (options.aligned_faces) {
    GLER_CHECK(!model.uses_box_crops(), "the default model crops faces from their detected boxes, so it cannot read "
                                        "--aligned-faces crops; drop --aligned-faces, or give a --model");
    const fs::path prefix = crop_prefix(*options.aligned_faces, input.relative);
    if (model.uses_faces()) {
      std::vector<io::Image> crops;
      for (int i = 0;; ++i) {
        const fs::path crop = fs::path(prefix).concat("_").concat(std::to_string(i)).concat(".jpg");
        if (!is_file(crop)) break;
        crops.push_back(io::read_image(crop.string()));
      }
      s.faces_found = static_cast<int>(crops.size());
      add_face_crops(s, crops, model);
    } else {
      const fs::path dir = options.face_features ? *options.face_features : *options.aligned_faces;
      const fs::path npz = fs::path(crop_prefix(dir, input.relative)).concat(".npz");
      const auto features = read_face_features(npz, input.path);
      s.faces_found = static_cast<int>(features.size());
      add_face_features(s, features, model);
    }
    return s;
  }

  GLER_CHECK(detector != nullptr, "prepare_sample: the model needs faces and no detector was given");
  s.detected = true;
  s.faces = detector->detect(picture).faces;
  s.faces_found = static_cast<int>(s.faces.size());
  if (model.uses_box_crops()) {
    s.faces_used = static_cast<int>(std::min<std::size_t>(s.faces.size(), static_cast<std::size_t>(model.max_faces)));
    for (int i = 0; i < s.faces_used; ++i) {
      const auto& box = s.faces[static_cast<std::size_t>(i)].box;
      const std::vector<float> pixels =
          models::face_expression_input(picture, models::face_box_from_mtcnn(box)).to_vector<float>();
      s.face_pixels.insert(s.face_pixels.end(), pixels.begin(), pixels.end());
      for (double v : box) s.face_boxes.push_back(static_cast<float>(v));
    }
    return s;
  }
  if (model.uses_face_features()) {
    std::vector<std::vector<float>> features;
    for (const faces::DetectedFace& f : s.faces) features.push_back(f.feature);
    add_face_features(s, features, model);
    return s;
  }
  std::vector<io::Image> crops;
  for (faces::AlignedFace& a : faces::align_faces(picture, s.faces, model.alignment()))
    crops.push_back(model.seed_compat ? seed_jpeg_round_trip(a.image) : std::move(a.image));
  add_face_crops(s, crops, model);
  return s;
}

GlerInput make_batch(const std::vector<const GroupSample*>& samples, const ModelInfo& model) {
  GLER_CHECK(!samples.empty(), "make_batch: no samples");
  const std::int64_t b = static_cast<std::int64_t>(samples.size()), f = model.max_faces;
  GlerInput in;
  if (model.uses_image()) {
    in.images = Tensor::empty({b, 3, io::kGlobalImageSize, io::kGlobalImageSize});
    float* dst = in.images.host_data<float>();
    for (const GroupSample* s : samples) {
      GLER_CHECK(!s->global.empty(), s->image << ": prepared without the global image");
      dst = std::copy(s->global.begin(), s->global.end(), dst);
    }
  }
  std::vector<std::int64_t> counts;
  for (const GroupSample* s : samples) counts.push_back(s->faces_used);
  in.face_counts = Tensor::from_vector(counts, Shape({b}));
  if (model.uses_faces()) {
    const std::int64_t face_values = 3 * model.face_height() * model.face_width();
    in.faces = Tensor::zeros({b, f, 3, model.face_height(), model.face_width()});
    float* dst = in.faces.host_data<float>();
    for (std::int64_t i = 0; i < b; ++i)
      std::copy(samples[static_cast<std::size_t>(i)]->face_pixels.begin(), samples[static_cast<std::size_t>(i)]->face_pixels.end(),
                dst + i * f * face_values);
  }
  if (model.uses_box_crops()) {
    in.face_boxes = Tensor::zeros({b, f, 4});
    float* dst = in.face_boxes.host_data<float>();
    for (std::int64_t i = 0; i < b; ++i)
      std::copy(samples[static_cast<std::size_t>(i)]->face_boxes.begin(), samples[static_cast<std::size_t>(i)]->face_boxes.end(),
                dst + i * f * 4);
  }
  if (model.uses_face_features()) {
    in.face_features = Tensor::zeros({b, f, kFeatureDim});
    float* dst = in.face_features.host_data<float>();
    for (std::int64_t i = 0; i < b; ++i)
      std::copy(samples[static_cast<std::size_t>(i)]->face_features.begin(),
                samples[static_cast<std::size_t>(i)]->face_features.end(), dst + i * f * kFeatureDim);
  }
  return in;
}

GlerOutput run_batch(GlerModel& model, const std::vector<const GroupSample*>& samples, Device device) {
  return model.forward(make_batch(samples, model.info()).to(device));
}

}  // namespace gler::models::pipeline
