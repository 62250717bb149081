#include "train/synth/raster.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace gler::synth {
namespace {

void check_rgb(const io::Image& image) {
  GLER_CHECK(image.channels == 3, "drawing needs an RGB image, got " << image.channels << " channels");
}

// Blends `color` over the pixels around the box [x0, x1] x [y0, y1] (clipped to the image) in
// proportion to their coverage by the shape given by its signed distance (negative inside).
template <class Distance>
void cover(io::Image& image, double x0, double y0, double x1, double y1, io::Rgb color, double opacity,
           Distance distance) {
  check_rgb(image);
  const int px0 = std::max(0, static_cast<int>(std::floor(x0 - 1))), py0 = std::max(0, static_cast<int>(std::floor(y0 - 1)));
  const int px1 = std::min(image.width - 1, static_cast<int>(std::ceil(x1 + 1)));
  const int py1 = std::min(image.height - 1, static_cast<int>(std::ceil(y1 + 1)));
  const double src[3] = {static_cast<double>(color.r), static_cast<double>(color.g), static_cast<double>(color.b)};
  for (int y = py0; y <= py1; ++y) {
    std::uint8_t* p = image.row(y) + 3 * px0;
    for (int x = px0; x <= px1; ++x, p += 3) {
      const double a = std::clamp(0.5 - distance(static_cast<double>(x), static_cast<double>(y)), 0.0, 1.0) * opacity;
      if (a <= 0) continue;
      for (int c = 0; c < 3; ++c) p[c] = static_cast<std::uint8_t>(std::lround(p[c] + a * (src[c] - p[c])));
    }
  }
}

// Shape coordinates of image point (x, y).
Vec2 to_shape(const Pose& pose, double x, double y) {
  const double dx = x - pose.centre.x, dy = y - pose.centre.y, c = std::cos(pose.angle), s = std::sin(pose.angle);
  return {dx * c + dy * s, -dx * s + dy * c};
}

double segment_distance(Vec2 p, Vec2 a, Vec2 b) {
  const double ux = b.x - a.x, uy = b.y - a.y, len2 = ux * ux + uy * uy;
  const double t = len2 > 0 ? std::clamp(((p.x - a.x) * ux + (p.y - a.y) * uy) / len2, 0.0, 1.0) : 0.0;
  return std::hypot(p.x - (a.x + t * ux), p.y - (a.y + t * uy));
}

}  // namespace

Vec2 Pose::to_image(double u, double v) const {
  const double c = std::cos(angle), s = std::sin(angle);
  return {centre.x + u * c - v * s, centre.y + u * s + v * c};
}

void fill_ellipse(io::Image& image, const Pose& pose, double rx, double ry, io::Rgb color, double opacity) {
  GLER_CHECK(rx > 0 && ry > 0, "fill_ellipse: radii must be positive, got " << rx << ", " << ry);
  const double reach = std::max(rx, ry);
  cover(image, pose.centre.x - reach, pose.centre.y - reach, pose.centre.x + reach, pose.centre.y + reach, color, opacity,
        [&](double x, double y) {
          // g / |grad g| for g = (u/rx)^2 + (v/ry)^2 - 1: the distance to the edge, to first order.
          const Vec2 q = to_shape(pose, x, y);
          const double g = q.x * q.x / (rx * rx) + q.y * q.y / (ry * ry) - 1.0;
          const double grad = 2.0 * std::hypot(q.x / (rx * rx), q.y / (ry * ry));
          return grad > 0 ? g / grad : -std::numeric_limits<double>::infinity();
        });
}

void fill_box(io::Image& image, const Pose& pose, double hx, double hy, io::Rgb color, double opacity) {
  GLER_CHECK(hx > 0 && hy > 0, "fill_box: half-sizes must be positive, got " << hx << ", " << hy);
  const double reach = std::hypot(hx, hy);
  cover(image, pose.centre.x - reach, pose.centre.y - reach, pose.centre.x + reach, pose.centre.y + reach, color, opacity,
        [&](double x, double y) {
          const Vec2 q = to_shape(pose, x, y);
          const double dx = std::abs(q.x) - hx, dy = std::abs(q.y) - hy;
          return std::hypot(std::max(dx, 0.0), std::max(dy, 0.0)) + std::min(std::max(dx, dy), 0.0);
        });
}

void stroke_polyline(io::Image& image, const std::vector<Vec2>& points, double width, io::Rgb color, double opacity) {
  GLER_CHECK(!points.empty() && width > 0, "stroke_polyline: needs points and a positive width");
  double x0 = points[0].x, y0 = points[0].y, x1 = x0, y1 = y0;
  for (const Vec2& p : points) {
    x0 = std::min(x0, p.x), y0 = std::min(y0, p.y), x1 = std::max(x1, p.x), y1 = std::max(y1, p.y);
  }
  const double half = width / 2;
  cover(image, x0 - half, y0 - half, x1 + half, y1 + half, color, opacity, [&](double x, double y) {
    double d = std::hypot(x - points[0].x, y - points[0].y);
    for (std::size_t i = 1; i < points.size(); ++i) d = std::min(d, segment_distance({x, y}, points[i - 1], points[i]));
    return d - half;
  });
}

}  // namespace gler::synth
