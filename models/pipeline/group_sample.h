// One photo made ready for a group-emotion model, the way the seed's data loaders make it
// (SEED_SPEC §2): decoded as Pillow does, the global 224x224 input, and the model's kind of
// aligned face crops (MTCNN + alignment here, or the crops a previous run wrote) and/or MTCNN face
// features. Then a batch of such samples becomes the model's input tensors.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "io/image.h"
#include "models/faces/face.h"
#include "models/faces/mtcnn_detector.h"
#include "models/gler/gler_model.h"
#include "models/pipeline/image_inputs.h"

namespace gler::models::pipeline {

struct SampleOptions {
  ModelInfo model;  // which inputs, which face layout, seed quirks, max_faces
  io::DecodeOptions decode;
  // --aligned-faces DIR: the crops DIR/<relative folder>/<stem>_<i>.jpg (i = 0, 1, ... while they
  // exist; <stem> the name without its extension, or up to its first '.' as the seed cuts it)
  // instead of detecting. The average model's features then come from <stem>.npz (array `a`,
  // (n, 256), as gler_faces writes it) in `face_features`, or beside the crops when that is unset.
  std::optional<std::filesystem::path> aligned_faces, face_features;
  bool keep_picture = false;  // keep the decoded image (RGB) for --annotate
};

struct GroupSample {
  std::string image;
  int width = 0, height = 0;
  bool detected = false;                   // MTCNN ran (not with --aligned-faces, nor for a global model)
  std::vector<faces::DetectedFace> faces;  // as detected, in detector order
  int faces_found = 0;  // detected faces, or crops found
  int faces_used = 0;   // the slots filled: min(faces with the input the model needs, max_faces)
  std::vector<float> global;         // [3, 224, 224] when the model uses the image
  std::vector<float> face_pixels;    // faces_used x [3, face_height, face_width]
  std::vector<float> face_features;  // faces_used x [256] (the average model)
  std::vector<float> face_boxes;     // faces_used x [x1, y1, x2, y2] (the default model)
  io::Image picture;                 // with keep_picture
};

// Reads and prepares one image. Detection needs `detector` (built with the seed's feature indexing
// when the model is seed_compat); with --aligned-faces or a model that uses no faces it may be null.
// Seed mode gives sphere20a what the seed's dataset gave it: crops saved as JPEG (quality 75, as
// its aligner wrote them) and read back. Throws gler::Error naming the file (a per-image failure).
GroupSample prepare_sample(const ImageInput& input, const SampleOptions& options, const faces::MtcnnDetector* detector);

// prepare_sample's face steps, for other preparers (gler_train's data loader) that must give the
// model the same values. The first max_faces crops, each at the model's face size and normalised
// for it, into s.face_pixels (sets s.faces_used).
void add_face_crops(GroupSample& s, const std::vector<io::Image>& crops, const ModelInfo& model);
// The first max_faces 256-d features into s.face_features (sets s.faces_used); s.image names errors.
void add_face_features(GroupSample& s, const std::vector<std::vector<float>>& features, const ModelInfo& model);
// The rows of array `a`, (n, 256), of a FaceFeatures npz; a missing file or another shape throws,
// naming `image` or the file.
std::vector<std::vector<float>> read_face_features(const std::filesystem::path& npz, const std::string& image);

// The samples as the model's CPU input tensors (GlerInput), empty slots zero.
GlerInput make_batch(const std::vector<const GroupSample*>& samples, const ModelInfo& model);
// One model call over the samples: make_batch, its tensors moved to `device`, the forward.
GlerOutput run_batch(GlerModel& model, const std::vector<const GroupSample*>& samples, Device device);

}  // namespace gler::models::pipeline
