// gler_synth's dataset: the photos (emotiw/{train,val}/<Label>/), VAL/EVAL lists and the face
// cache gler_faces would write for them had MTCNN found exactly the drawn faces, plus a manifest of
// what was drawn. Contract: docs/CLI.md, gler_synth.
//
// Face cache: each drawn face becomes a models::faces::DetectedFace with the head's box, score
// kSynthScore and its five drawn landmarks, in the scene's order (largest first); its O-Net
// feature comes from MtcnnDetector::onet_features on the photo as decoded from the JPEG written,
// and the crops from the project's alignment, all written by write_face_outputs into the EmotiW
// layout of face_layout.h.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "models/faces/align.h"
#include "models/faces/mtcnn_detector.h"

namespace gler::synth {

constexpr double kSynthScore = 1.0;  // every drawn face is certain
constexpr int kPhotoJpegQuality = 90;
constexpr const char* kManifestName = "gler_synth.json";
constexpr int kMaxFacesPerImage = 100;  // more would not fit the photos anyway

struct SynthOptions {
  std::filesystem::path out;
  int train = 300, val = 150;
  std::uint64_t seed = 0;
  int max_faces = 20;     // per image, 1..kMaxFacesPerImage
  double faceless = 0.15;  // the probability that a Neutral photo has no faces, in [0, 1]
  models::faces::AlignMode align = models::faces::AlignMode::seed;
};

struct SynthSummary {
  std::size_t images = 0, faces = 0, val_list = 0, test_list = 0;
};

// Writes the whole dataset under options.out; `on_image(faces)` is called after each image. An
// existing out/emotiw/ that gler_synth did not write (no manifest beside it) is refused; in a folder
// it wrote before, the previous run's images and their face outputs are removed first, so a rerun
// leaves exactly this run's files.
SynthSummary write_synth_dataset(const SynthOptions& options, const models::faces::MtcnnDetector& detector,
                                 const std::function<void(std::size_t faces)>& on_image);

}  // namespace gler::synth
