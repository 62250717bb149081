// One synthetic group photo: a background and 0..K faces, composed so that the group label is the
// faces' majority expression.
//
// The label rule: the image's label is drawn first (the dataset balances the labels); then its face
// count n; then the faces are placed (not overlapping, inside the picture; a face that finds no
// room even when made smaller is left out); then the n faces that were placed get expressions of
// which the label's is a strict plurality: more faces show it than either other expression. Only
// Neutral images may have no faces, and an image without faces is Neutral.
#pragma once
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "io/image.h"
#include "models/faces/face.h"
#include "train/synth/draw_faces.h"
#include "train/synth/synth_random.h"

namespace gler::synth {

constexpr double kMinFaceWidth = 20, kMaxFaceWidth = 120;  // px, before the tilt
constexpr int kMinImageSide = 256, kMaxImageSide = 480;

struct SceneFace {
  FaceLook look;
  std::array<double, 4> box{};  // face_box(look)
  std::array<models::faces::Point, 5> landmarks{};
};

struct Scene {
  io::Image image;         // RGB
  std::string background;  // paint_background's kind
  // Largest box first (ties: top, then left), as MTCNN lists its most confident faces first.
  std::vector<SceneFace> faces;
};

// Expressions for n faces with `label`'s a strict plurality (n = 0 only for Neutral), in random order.
std::vector<Expression> expressions_for_label(SynthRandom& random, int label, int n);

// The label `expressions` give under the rule: the expression more faces show than each other one;
// Neutral without faces; nullopt when no expression has a strict plurality.
std::optional<int> label_of(const std::vector<Expression>& expressions);

// A photo labelled `label` (0 Negative, 1 Neutral, 2 Positive) with at most `max_faces` faces (>= 1).
// A Neutral photo has no faces with probability `faceless` (gler_synth's default 0.15).
Scene make_scene(SynthRandom& random, int label, int max_faces, double faceless = 0.15);

}  // namespace gler::synth
