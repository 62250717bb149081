// The sphere20a of a GLER model: the shapes' trunk with the given fc6.
#pragma once
#include "models/gler/model_shapes.h"
#include "models/sphere20a.h"

namespace gler::models {

inline Sphere20aOptions sphere_options(const ModelShapes& shapes, SphereHead head, std::int64_t classes,
                                       LinearInit init, bool seed_compat = false) {
  Sphere20aOptions o;
  o.head = head;
  o.classes = classes;
  o.linear_init = init;
  // The seed's trainer computes the L-Softmax margin and returns the plain x·W (its margin is dead
  // code, SEED_SPEC §4.6); corrected, the margin applies in training when the labels are given
  // (GlerInput::labels).
  o.lsoftmax.seed_compatible = seed_compat;
  o.widths = shapes.sphere_widths;
  o.feature_dim = shapes.sphere_feature_dim;
  o.input_height = shapes.face_long;
  o.input_width = shapes.face_short;
  return o;
}

}  // namespace gler::models
