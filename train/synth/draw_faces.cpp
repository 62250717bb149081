#include "train/synth/draw_faces.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"

namespace gler::synth {
namespace {

constexpr double kMaxTilt = 0.26;  // radians, about 15 degrees

io::Rgb mix(io::Rgb a, io::Rgb b, double t) {
  const auto lerp = [t](std::uint8_t x, std::uint8_t y) {
    return static_cast<std::uint8_t>(std::lround(x + t * (static_cast<double>(y) - x)));
  };
  return {lerp(a.r, b.r), lerp(a.g, b.g), lerp(a.b, b.b)};
}

io::Rgb jitter(SynthRandom& random, io::Rgb c, int amount) {
  const auto j = [&](std::uint8_t v) { return static_cast<std::uint8_t>(std::clamp(v + random.integer(-amount, amount), 0, 255)); };
  return {j(c.r), j(c.g), j(c.b)};
}

// From pale to deep brown; a face's tone lies between two neighbours.
constexpr std::array<io::Rgb, 7> kSkinTones{{{255, 224, 196}, {241, 194, 161}, {224, 172, 125}, {198, 134, 94},
                                              {161, 102, 70}, {113, 72, 50}, {80, 52, 38}}};
constexpr std::array<io::Rgb, 5> kHairColors{{{30, 25, 20}, {90, 60, 35}, {200, 170, 100}, {150, 70, 40}, {165, 165, 160}}};

io::Rgb random_skin(SynthRandom& random) {
  const int i = random.integer(0, static_cast<int>(kSkinTones.size()) - 2);
  return jitter(random, mix(kSkinTones[i], kSkinTones[i + 1], random.uniform()), 8);
}

// The mouth's centre line in head coordinates: corners at (±mouth_u·rx, mouth_v·ry), the middle
// bent down (smile: the corners are higher) or up (frown) by mouth_depth.
std::vector<Vec2> mouth_line(const FaceLook& f) {
  const double sign = f.expression == Expression::smile ? 1.0 : f.expression == Expression::frown ? -1.0 : 0.0;
  std::vector<Vec2> points;
  constexpr int kSegments = 12;
  for (int i = 0; i <= kSegments; ++i) {
    const double t = -1.0 + 2.0 * i / kSegments;
    points.push_back(f.pose.to_image(t * f.mouth_u * f.rx, f.mouth_v * f.ry + sign * f.mouth_depth * (1.0 - t * t)));
  }
  return points;
}

}  // namespace

const char* expression_name(Expression e) {
  switch (e) {
    case Expression::frown: return "frown";
    case Expression::straight: return "straight";
    case Expression::smile: return "smile";
  }
  GLER_FAIL("unknown expression " << static_cast<int>(e));
}

FaceLook random_face(SynthRandom& random, Vec2 centre, double width, double height, Expression expression) {
  GLER_CHECK(width > 0 && height >= width, "random_face: needs 0 < width <= height, got " << width << " x " << height);
  FaceLook f;
  f.pose = {centre, random.uniform(-kMaxTilt, kMaxTilt)};
  f.rx = width / 2;
  f.ry = height / 2;
  f.skin = random_skin(random);
  // Dark skin gets lighter lips and mostly eye whites, so that its features still stand out.
  const bool dark = 0.299 * f.skin.r + 0.587 * f.skin.g + 0.114 * f.skin.b < 120;
  f.feature_color = jitter(random, mix(f.skin, {25, 20, 20}, dark ? 0.9 : 0.8), 10);
  f.mouth_color = jitter(random, dark ? mix(f.skin, {235, 150, 150}, 0.6) : mix(f.skin, {110, 20, 30}, 0.75), 10);
  f.hair = random.chance(0.7);
  f.hair_color = jitter(random, kHairColors[static_cast<std::size_t>(random.integer(0, static_cast<int>(kHairColors.size()) - 1))], 12);
  f.eye_u = random.uniform(0.30, 0.42);
  f.eye_v = -random.uniform(0.08, 0.22);
  f.eye_rx = f.rx * random.uniform(0.09, 0.14);
  f.eye_ry = f.eye_rx * random.uniform(0.7, 1.1);
  f.eye_whites = random.chance(dark ? 0.9 : 0.5);
  f.brows = random.chance(0.5);
  f.nose_v = random.uniform(0.10, 0.20);
  f.mouth_v = random.uniform(0.45, 0.58);
  f.mouth_u = random.uniform(0.25, 0.40);
  f.mouth_width = std::max(1.2, f.rx * random.uniform(0.06, 0.10));
  f.expression = expression;
  if (expression != Expression::straight) {
    // Bent by 40-70% of its half-width, but kept between the nose and the chin.
    const double room = expression == Expression::smile ? (0.85 - f.mouth_v) * f.ry : (f.mouth_v - f.nose_v - 0.06) * f.ry;
    f.mouth_depth = std::min(random.uniform(0.4, 0.7) * f.mouth_u * f.rx, room);
  }
  return f;
}

std::array<double, 4> face_box(const FaceLook& f) {
  const double c = std::cos(f.pose.angle), s = std::sin(f.pose.angle);
  const double ex = std::hypot(f.rx * c, f.ry * s), ey = std::hypot(f.rx * s, f.ry * c);
  return {f.pose.centre.x - ex, f.pose.centre.y - ey, f.pose.centre.x + ex, f.pose.centre.y + ey};
}

double face_reach(const FaceLook& f) { return face_reach(f.ry); }

double face_reach(double ry) { return 1.2 * ry + 1.0; }

std::array<models::faces::Point, 5> face_landmarks(const FaceLook& f) {
  const auto point = [&](double u, double v) {
    const Vec2 p = f.pose.to_image(u * f.rx, v * f.ry);
    return models::faces::Point{static_cast<float>(p.x), static_cast<float>(p.y)};
  };
  return {point(-f.eye_u, f.eye_v), point(f.eye_u, f.eye_v), point(0, f.nose_v), point(-f.mouth_u, f.mouth_v),
          point(f.mouth_u, f.mouth_v)};
}

void draw_face(io::Image& image, const FaceLook& f) {
  const auto at = [&](double u, double v) { return Pose{f.pose.to_image(u * f.rx, v * f.ry), f.pose.angle}; };
  if (f.hair) fill_ellipse(image, at(0, -0.12), f.rx * 1.1, f.ry * 1.0, f.hair_color);
  fill_ellipse(image, f.pose, f.rx, f.ry, f.skin);
  for (const double side : {-1.0, 1.0}) {
    const Pose eye = at(side * f.eye_u, f.eye_v);
    if (f.eye_whites) fill_ellipse(image, eye, f.eye_rx * 1.7, f.eye_ry * 1.2, {245, 245, 240});
    fill_ellipse(image, eye, f.eye_rx, f.eye_ry, f.feature_color);
    if (f.brows) {
      const double v = f.eye_v * f.ry - 2.4 * f.eye_ry;
      stroke_polyline(image, {f.pose.to_image((side * f.eye_u - 0.13) * f.rx, v), f.pose.to_image((side * f.eye_u + 0.13) * f.rx, v)},
                      std::max(1.0, f.rx * 0.06), f.hair ? f.hair_color : f.feature_color);
    }
  }
  const io::Rgb nose = mix(f.skin, f.feature_color, 0.45);
  stroke_polyline(image, {f.pose.to_image(0, (f.eye_v + 0.08) * f.ry), f.pose.to_image(0, f.nose_v * f.ry)},
                  std::max(1.0, f.rx * 0.05), nose);
  fill_ellipse(image, at(0, f.nose_v), f.rx * 0.09, f.ry * 0.05, nose);
  stroke_polyline(image, mouth_line(f), f.mouth_width, f.mouth_color);
}

}  // namespace gler::synth
