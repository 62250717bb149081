// Backbone and head sizes of the GLER models. The paper's models use the defaults; smaller ones
// exist for gradient checks, fast tests and the tiny models gler_train writes. A model file
// records its shapes in the metadata key "shapes" when they are not the defaults, so files with
// the defaults (every file gler_import writes) carry no such key and load_model builds the defaults.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <string>

#include "models/densenet.h"

namespace gler::models {

struct ModelShapes {
  DenseNetConfig densenet = densenet_config("densenet161");  // num_classes is set per arch
  // The seed's DenseNet head pools a fixed 7x7 window, so the image must give a 7x7 final map
  // (224 for densenet161; 28 for a one-block DenseNet, which halves twice before its only block).
  std::int64_t image_size = 224;
  std::array<std::int64_t, 4> sphere_widths{64, 128, 256, 512};
  std::int64_t sphere_feature_dim = 512;          // fc5
  std::int64_t face_long = 112, face_short = 96;  // the portrait input sphere20a's fc5 is sized for
  std::int64_t onet_dim = 256;                    // MTCNN O-Net face features (average)
  std::int64_t head_dim = 256;                    // global_fc_main / the EmotiC classifier; A and C's face features
  std::int64_t attention_dim = 64;                // B: face features and global_fc; C: attentionfc1

  // Face crops: seed mode landscape (short high x long wide), corrected portrait (long x short).
  std::int64_t face_height(bool seed_compat) const { return seed_compat ? face_short : face_long; }
  std::int64_t face_width(bool seed_compat) const { return seed_compat ? face_long : face_short; }

  friend bool operator==(const ModelShapes&, const ModelShapes&) = default;
};

// {} for the default shapes, else {"shapes": compact JSON of every field}; merge it into
// ModelInfo::to_metadata() when saving a model. densenet.num_classes is not recorded (the
// builders set it per arch), so shapes differing from the defaults only there give {}.
std::map<std::string, std::string> shapes_to_metadata(const ModelShapes& shapes);

// The shapes a file's metadata records: the defaults without "shapes"; missing fields keep their
// default. An unknown key, a wrong type, a non-integer or an out-of-range value, or shapes that
// would build a model many times the full-size one, throw an error naming the key.
ModelShapes shapes_from_metadata(const std::map<std::string, std::string>& metadata);

}  // namespace gler::models
