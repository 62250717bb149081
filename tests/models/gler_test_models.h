// Shared by the GLER model tests and gradient checks: a ModelInfo in one call, and the tiny
// backbones the f64 checks run on.
#pragma once
#include <string>

#include "models/gler/gler_model.h"
#include "models/gler/model_shapes.h"

namespace gler::test {

inline models::ModelInfo info_of(const std::string& arch, bool seed_compat, bool emotic = false,
                                 const std::string& head = "linear", int max_faces = 15) {
  models::ModelInfo info;
  info.arch = arch;
  info.seed_compat = seed_compat;
  info.emotic = emotic;
  info.local_head = head;
  info.max_faces = max_faces;
  return info;
}

// A one-block DenseNet (6 features, 7x7 at 28x28), a sphere20a of widths 2-3 for 32x16 faces, heads
// of width 3-5.
inline models::ModelShapes tiny_shapes() {
  models::ModelShapes s;
  s.densenet = {.growth_rate = 2, .block_config = {1}, .num_init_features = 4, .bn_size = 2, .num_classes = 3};
  s.image_size = 28;
  s.sphere_widths = {2, 2, 3, 3};
  s.sphere_feature_dim = 6;
  s.face_long = 32;
  s.face_short = 16;
  s.onet_dim = 5;
  s.head_dim = 4;
  s.attention_dim = 3;
  return s;
}

}  // namespace gler::test
