// The sphere20a of a GLER model: the shapes' trunk with the given fc6.
#pragma once
#include "models/gler/model_shapes.h"
#include "models/sphere20a.h"

namespace gler::models {

inline Sphere20aOptions sphere_options(const ModelShapes& shapes, SphereHead head, std::int64_t classes,
                                       LinearInit init) {
  Sphere20aOptions o;
  o.head = head;
  o.classes = classes;
  o.linear_init = init;
  // The heads get no labels, so an L-Softmax fc6 gives x·W in training too: the seed's trainer does
  // the same (its margin is dead code, SEED_SPEC §4.6).
  o.lsoftmax.seed_compatible = true;
  o.widths = shapes.sphere_widths;
  o.feature_dim = shapes.sphere_feature_dim;
  o.input_height = shapes.face_long;
  o.input_width = shapes.face_short;
  return o;
}

}  // namespace gler::models
