// Backbone and head sizes of the GLER models. The paper's models, and every file load_model reads,
// use the defaults; make_model also takes smaller ones, which exist only for gradient checks and
// fast tests (a model file records no shapes, so load_model always builds the defaults).
#pragma once
#include <array>
#include <cstdint>

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
};

}  // namespace gler::models
