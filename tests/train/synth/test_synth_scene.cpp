// The synthetic photos (train/synth/synth_scene.h, draw_faces.h): the label rule holds for every
// scene, faces are where and how large the contract says, mouths are drawn with their expression,
// and a scene is a pure function of its seed and stream.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "train/synth/synth_scene.h"

using namespace gler::synth;

namespace {

// The expressions of a scene's faces, in its order.
std::vector<Expression> expressions(const Scene& scene) {
  std::vector<Expression> out;
  for (const SceneFace& f : scene.faces) out.push_back(f.look.expression);
  return out;
}

}  // namespace

TEST_CASE("label_of: a strict plurality, Neutral without faces") {
  using E = Expression;
  CHECK(label_of({}) == 1);
  CHECK(label_of({E::smile}) == 2);
  CHECK(label_of({E::frown, E::frown, E::smile}) == 0);
  CHECK(label_of({E::frown, E::smile, E::straight, E::straight}) == 1);
  CHECK_FALSE(label_of({E::frown, E::smile}).has_value());
  CHECK_FALSE(label_of({E::frown, E::frown, E::smile, E::smile, E::straight}).has_value());
}

TEST_CASE("expressions_for_label gives the label a strict plurality for every face count") {
  SynthRandom random(3, 0);
  for (int label = 0; label < 3; ++label)
    for (int n = label == 1 ? 0 : 1; n <= 40; ++n)
      for (int draw = 0; draw < 20; ++draw) {
        const std::vector<Expression> e = expressions_for_label(random, label, n);
        CAPTURE(label);
        CAPTURE(n);
        REQUIRE(static_cast<int>(e.size()) == n);
        CHECK(label_of(e) == label);
      }
  CHECK_THROWS(expressions_for_label(random, 0, 0));
  CHECK_THROWS(expressions_for_label(random, 3, 2));
}

TEST_CASE("scenes: the label rule, sizes, placement and order") {
  std::array<int, 3> zero_faces{}, small_groups{}, crowds{};
  int scenes = 0;
  for (const int max_faces : {1, 3, 20}) {
    for (std::uint64_t stream = 0; stream < 60; ++stream) {
      const int label = static_cast<int>(stream % 3);
      SynthRandom random(11, stream + 1000 * static_cast<std::uint64_t>(max_faces));
      const Scene scene = make_scene(random, label, max_faces);
      CAPTURE(max_faces);
      CAPTURE(stream);
      ++scenes;
      CHECK(scene.image.channels == 3);
      CHECK(scene.image.width >= kMinImageSide);
      CHECK(scene.image.width <= kMaxImageSide);
      CHECK(scene.image.height >= kMinImageSide);
      CHECK(scene.image.height <= kMaxImageSide);
      CHECK(static_cast<int>(scene.faces.size()) <= max_faces);
      CHECK(label_of(expressions(scene)) == label);
      const std::size_t n = scene.faces.size();
      if (max_faces == 20) {
        if (n == 0) ++zero_faces[label];
        else if (n <= 6) ++small_groups[label];
        else ++crowds[label];
      }
      for (std::size_t i = 0; i < n; ++i) {
        const SceneFace& f = scene.faces[i];
        CHECK(f.look.rx * 2 >= kMinFaceWidth - 1e-9);
        CHECK(f.look.rx * 2 <= kMaxFaceWidth + 1e-9);
        CHECK(f.box == face_box(f.look));
        CHECK(f.box[0] >= 0);
        CHECK(f.box[1] >= 0);
        CHECK(f.box[2] <= scene.image.width - 1);
        CHECK(f.box[3] <= scene.image.height - 1);
        // Eyes above the nose above the mouth, left of right, all inside the box.
        const auto& lm = f.landmarks;
        CHECK(lm[0].x < lm[1].x);
        CHECK(lm[3].x < lm[4].x);
        CHECK(std::max(lm[0].y, lm[1].y) < lm[2].y);
        CHECK(lm[2].y < std::min(lm[3].y, lm[4].y));
        for (const auto& p : lm) {
          CHECK(p.x > f.box[0]);
          CHECK(p.x < f.box[2]);
          CHECK(p.y > f.box[1]);
          CHECK(p.y < f.box[3]);
        }
        for (std::size_t j = 0; j < i; ++j) {
          const FaceLook &a = f.look, &b = scene.faces[j].look;
          CHECK(std::hypot(a.pose.centre.x - b.pose.centre.x, a.pose.centre.y - b.pose.centre.y) >= face_reach(a) + face_reach(b));
        }
        if (i > 0) {
          const auto area = [](const std::array<double, 4>& b) { return (b[2] - b[0] + 1) * (b[3] - b[1] + 1); };
          CHECK(area(scene.faces[i - 1].box) >= area(f.box));
        }
      }
    }
  }
  CHECK(scenes == 180);
  // Only Neutral photos go without faces; most groups are small, some are crowds.
  CHECK(zero_faces[0] == 0);
  CHECK(zero_faces[2] == 0);
  CHECK(zero_faces[1] >= 1);
  for (int c = 0; c < 3; ++c) {
    CHECK(small_groups[c] >= 8);
    CHECK(crowds[c] >= 2);
  }
}

TEST_CASE("a scene is a pure function of seed and stream") {
  SynthRandom a(5, 42), b(5, 42), c(6, 42), d(5, 43);
  const Scene first = make_scene(a, 2, 20), again = make_scene(b, 2, 20);
  CHECK(first.image.pixels == again.image.pixels);
  CHECK(first.background == again.background);
  CHECK(make_scene(c, 2, 20).image.pixels != first.image.pixels);
  CHECK(make_scene(d, 2, 20).image.pixels != first.image.pixels);
}

// The mouth's rows in the middle and near the corners, on a big upright face drawn on grey:
// a smile's middle is lower than its ends, a frown's higher, a straight mouth's level.
TEST_CASE("mouths show their expression") {
  for (const Expression e : {Expression::frown, Expression::straight, Expression::smile}) {
    CAPTURE(expression_name(e));
    SynthRandom random(1, static_cast<std::uint64_t>(e));
    gler::io::Image image(200, 200, 3);
    std::fill(image.pixels.begin(), image.pixels.end(), std::uint8_t{128});
    FaceLook face = random_face(random, {100, 100}, 120, 150, e);
    face.pose.angle = 0;
    draw_face(image, face);
    // The row of the mouth's centre line in column x: the pixel closest to the mouth colour among
    // those below the nose.
    const auto mouth_row = [&](int x) {
      int best = -1;
      double best_distance = 1e9;
      for (int y = static_cast<int>(face.pose.centre.y + face.nose_v * face.ry) + 4; y < 200; ++y) {
        const std::uint8_t* p = image.row(y) + 3 * x;
        const double d = std::abs(p[0] - face.mouth_color.r) + std::abs(p[1] - face.mouth_color.g) + std::abs(p[2] - face.mouth_color.b);
        if (d < best_distance) best_distance = d, best = y;
      }
      return best;
    };
    const int reach = static_cast<int>(0.8 * face.mouth_u * face.rx);
    const int middle = mouth_row(100), left = mouth_row(100 - reach), right = mouth_row(100 + reach);
    if (e == Expression::smile) {
      CHECK(middle > left + 2);
      CHECK(middle > right + 2);
    } else if (e == Expression::frown) {
      CHECK(middle < left - 2);
      CHECK(middle < right - 2);
    } else {
      CHECK(std::abs(middle - left) <= 1);
      CHECK(std::abs(middle - right) <= 1);
    }
  }
}
