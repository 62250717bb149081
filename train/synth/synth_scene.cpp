#include "train/synth/synth_scene.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "core/error.h"
#include "train/synth/backgrounds.h"

namespace gler::synth {
namespace {

constexpr int kNeutralLabel = 1;

// Mostly small groups, some crowds: 1..6 faces with probability 0.7, else 7..max; Neutral photos
// have no faces with probability `faceless`. The draw is made whatever `faceless` is, so the other
// photos do not depend on it.
int face_count(SynthRandom& random, int label, int max_faces, double faceless) {
  if (label == kNeutralLabel && random.chance(faceless)) return 0;
  const int small = std::min(6, max_faces);
  if (max_faces <= small || random.chance(0.7)) return random.integer(1, small);
  return random.integer(small + 1, max_faces);
}

struct Placed {
  Vec2 centre;
  double width, height;
};

// Up to n heads, none overlapping another, each inside the picture. Sizes shrink with the count so
// that crowds fit; a head that finds no room is tried smaller, and left out below the minimum.
std::vector<Placed> place_heads(SynthRandom& random, int width, int height, int n) {
  std::vector<Placed> placed;
  const double largest = std::clamp(0.55 * std::sqrt(static_cast<double>(width) * height / std::max(n, 1)), kMinFaceWidth, kMaxFaceWidth);
  constexpr int kTries = 60;
  for (int i = 0; i < n; ++i) {
    double w = random.uniform(kMinFaceWidth, largest);
    const double aspect = random.uniform(1.05, 1.3);
    for (bool done = false; !done && w >= kMinFaceWidth; w *= 0.8) {
      const double reach = face_reach(w * aspect / 2);
      if (2 * reach >= std::min(width, height)) continue;
      for (int t = 0; t < kTries && !done; ++t) {
        const Vec2 c{random.uniform(reach, width - 1 - reach), random.uniform(reach, height - 1 - reach)};
        done = std::none_of(placed.begin(), placed.end(), [&](const Placed& p) {
          return std::hypot(p.centre.x - c.x, p.centre.y - c.y) < reach + face_reach(p.height / 2);
        });
        if (done) placed.push_back({c, w, w * aspect});
      }
    }
  }
  return placed;
}

double box_area(const std::array<double, 4>& b) { return (b[2] - b[0] + 1) * (b[3] - b[1] + 1); }

}  // namespace

std::vector<Expression> expressions_for_label(SynthRandom& random, int label, int n) {
  GLER_CHECK(label >= 0 && label <= 2, "label must be 0, 1 or 2, got " << label);
  GLER_CHECK(n >= 0 && (n > 0 || label == kNeutralLabel), "a photo labelled " << label << " needs faces, got " << n);
  if (n == 0) return {};
  // The label's count m beats both others (each at most m - 1): m >= (n + 2) / 3. Drawn towards
  // that bound, so that mixed groups are common.
  const int least = (n + 4) / 3;
  const double u = random.uniform();
  const int m = std::min(n, least + static_cast<int>((n - least + 1) * u * u));
  const int rest = n - m;
  const int a = random.integer(std::max(0, rest - (m - 1)), std::min(rest, m - 1));
  std::vector<Expression> out(static_cast<std::size_t>(m), Expression(label));
  out.insert(out.end(), static_cast<std::size_t>(a), Expression((label + 1) % 3));
  out.insert(out.end(), static_cast<std::size_t>(rest - a), Expression((label + 2) % 3));
  random.shuffle(out);
  return out;
}

std::optional<int> label_of(const std::vector<Expression>& expressions) {
  if (expressions.empty()) return kNeutralLabel;
  std::array<int, 3> count{};
  for (const Expression e : expressions) ++count[static_cast<std::size_t>(e)];
  for (int c = 0; c < 3; ++c)
    if (count[c] > count[(c + 1) % 3] && count[c] > count[(c + 2) % 3]) return c;
  return std::nullopt;
}

Scene make_scene(SynthRandom& random, int label, int max_faces, double faceless) {
  GLER_CHECK(max_faces >= 1, "max faces per image must be at least 1, got " << max_faces);
  Scene scene;
  const int width = random.integer(kMinImageSide, kMaxImageSide), height = random.integer(kMinImageSide, kMaxImageSide);
  scene.image = io::Image(width, height, 3);
  scene.background = paint_background(scene.image, random);
  const std::vector<Placed> heads = place_heads(random, width, height, face_count(random, label, max_faces, faceless));
  // The first head always fits (the picture is at least twice its reach), so a label that needs
  // faces gets some.
  const std::vector<Expression> expressions = expressions_for_label(random, label, static_cast<int>(heads.size()));
  for (std::size_t i = 0; i < heads.size(); ++i) {
    SceneFace face;
    face.look = random_face(random, heads[i].centre, heads[i].width, heads[i].height, expressions[i]);
    draw_face(scene.image, face.look);
    face.box = face_box(face.look);
    face.landmarks = face_landmarks(face.look);
    scene.faces.push_back(face);
  }
  std::stable_sort(scene.faces.begin(), scene.faces.end(), [](const SceneFace& a, const SceneFace& b) {
    return std::make_tuple(-box_area(a.box), a.box[1], a.box[0]) < std::make_tuple(-box_area(b.box), b.box[1], b.box[0]);
  });
  return scene;
}

}  // namespace gler::synth
