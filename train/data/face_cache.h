// The face cache of a dataset root, in gler_faces' EmotiW layout (docs/CLI.md): what the training
// loader reads for an example's faces, and, for an image without an entry, the entry gler_faces
// would have written, made on the spot with the same detector, alignment and writer.
#pragma once
#include <filesystem>
#include <memory>
#include <mutex>

#include "io/image.h"
#include "models/faces/face_outputs.h"
#include "models/faces/mtcnn_detector.h"
#include "models/pipeline/group_sample.h"
#include "train/data/emotiw_dataset.h"

namespace gler::train {

class FaceCache {
 public:
  // Keeps root, model, weights and face settings of `options`; loads no weights yet.
  explicit FaceCache(const DatasetOptions& options);
  ~FaceCache();

  // FaceJson/, FaceFeatures/, FaceCoordinates/ and AlignedCroppedImages/ paths of the example.
  models::faces::FaceOutputPaths paths(const Example& example) const;

  // When the example's FaceFeatures npz or FaceJson is missing (never made, or a run stopped in
  // the middle of the image: gler_faces writes the JSON last), detects the faces of `decoded`
  // (the example's image), aligns them and writes the entry (write_face_outputs), so later epochs
  // read it. One writer per entry in the whole process: a second caller waits for the first and
  // then finds the entry made. The MTCNN weights are loaded at the first detection. Throws when
  // the weights cannot be loaded or the entry cannot be written.
  void ensure(const Example& example, const io::Image& decoded);

  // The example's faces into `sample` (faces_found = n, the rows of its FaceFeatures `a`):
  // models with faces get the crops <stem>_<i> for i < min(n, max_faces), read as Pillow reads
  // them, stopping at the first missing one (the seed alignment writes none for an image with a
  // landmark at 0.0), at the model's face size as gler_infer --aligned-faces gives them; the
  // average model gets the first max_faces feature rows. Throws gler::Error for a missing or
  // malformed npz or an unreadable crop.
  void read(const Example& example, models::pipeline::GroupSample& sample) const;

 private:
  const models::faces::MtcnnDetector& detector();

  std::filesystem::path root_;
  models::ModelInfo model_;
  std::filesystem::path weights_;
  models::faces::FaceOutputSettings settings_;
  std::mutex detector_mutex_;
  std::unique_ptr<models::faces::MtcnnDetector> detector_;
};

}  // namespace gler::train
