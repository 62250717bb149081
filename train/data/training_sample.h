// One example made ready for the model the way gler_infer makes an image ready (the same decode,
// resize, normalisation and face tensors: models/pipeline/group_sample.h), with the seed's
// training augmentation for the global arch and the faces from the dataset's face cache.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "models/pipeline/group_sample.h"
#include "train/data/emotiw_dataset.h"
#include "train/data/face_cache.h"

namespace gler::train {

struct PreparedExample {
  std::optional<models::pipeline::GroupSample> sample;
  std::string skipped;  // "path: reason" when the example cannot be used (no sample then)
};

// Decodes the image as Pillow does; the global input with the seed's augmentation, drawn from
// Generator(augment_seed), when options.augment and the arch is global, else Resize((224, 224));
// then its faces or features from `cache`, detected and written first when its entry is missing
// (face_cache.h). An image that cannot be read or decoded, and a cache entry that cannot be read
// (a malformed npz such as the seed's zeros(1) dummy, a corrupt crop), give `skipped`; failures
// that are not the example's (MTCNN weights, writing the cache) throw.
PreparedExample prepare_example(const Example& example, const DatasetOptions& options, FaceCache& cache,
                                std::uint64_t augment_seed);

}  // namespace gler::train
