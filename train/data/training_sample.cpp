#include "train/data/training_sample.h"

#include "core/error.h"
#include "io/preprocess.h"
#include "train/data/augment.h"
#include "train/data/emotic_dataset.h"  // EmotiC: prepare_emotic_example

namespace gler::train {
namespace {

// Decode errors already start with the file's path; others get it.
std::string skip_reason(const Example& example, const Error& e) {
  const std::string what = e.what();
  return what.rfind(example.image, 0) == 0 ? what : example.image + ": " + what;
}

}  // namespace

PreparedExample prepare_example(const Example& example, const DatasetOptions& options, FaceCache& cache,
                                std::uint64_t augment_seed) {
  if (options.emotic) return prepare_emotic_example(example, options, augment_seed);  // EmotiC pretraining (emotic_dataset.h)
  const models::ModelInfo& model = options.model;
  PreparedExample prepared;
  io::Image decoded;
  try {
    decoded = io::read_image(example.image);
  } catch (const Error& e) {
    prepared.skipped = skip_reason(example, e);
    return prepared;
  }
  models::pipeline::GroupSample s;
  s.image = example.image;
  s.width = decoded.width;
  s.height = decoded.height;
  if (model.uses_image()) {
    s.global.resize(3 * static_cast<std::size_t>(io::kGlobalImageSize) * io::kGlobalImageSize);
    if (options.augment && model.arch == "global") {
      Generator gen(augment_seed);
      augmented_global_tensor(decoded, draw_global_augmentation(decoded.width, decoded.height, gen), model.seed_compat,
                              s.global.data());
    } else if (options.center_crop && model.arch == "global") {
      center_crop_global_tensor(decoded, model.seed_compat, s.global.data());
    } else {
      io::global_image_tensor(decoded, model.seed_compat, s.global.data());
    }
  }
  if (model.uses_faces() || model.uses_face_features()) {
    cache.ensure(example, decoded);
    try {
      cache.read(example, s);
    } catch (const Error& e) {
      prepared.skipped = skip_reason(example, e);
      return prepared;
    }
  }
  prepared.sample = std::move(s);
  return prepared;
}

}  // namespace gler::train
