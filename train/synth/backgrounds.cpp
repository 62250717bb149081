#include "train/synth/backgrounds.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "core/error.h"
#include "train/synth/raster.h"

namespace gler::synth {
namespace {

io::Rgb random_color(SynthRandom& random) {
  return {static_cast<std::uint8_t>(random.integer(0, 255)), static_cast<std::uint8_t>(random.integer(0, 255)),
          static_cast<std::uint8_t>(random.integer(0, 255))};
}

std::uint8_t blend(std::uint8_t a, std::uint8_t b, double t) {
  return static_cast<std::uint8_t>(std::clamp(std::lround(a + t * (static_cast<double>(b) - a)), 0L, 255L));
}

void put(io::Image& image, int x, int y, io::Rgb a, io::Rgb b, double t) {
  std::uint8_t* p = image.row(y) + 3 * x;
  p[0] = blend(a.r, b.r, t), p[1] = blend(a.g, b.g, t), p[2] = blend(a.b, b.b, t);
}

void gradient(io::Image& image, SynthRandom& random) {
  const io::Rgb a = random_color(random), b = random_color(random);
  const double angle = random.uniform(0, 2 * std::numbers::pi), dx = std::cos(angle), dy = std::sin(angle);
  // Projections of the corners onto the direction give the range mapped to 0..1.
  double lo = 0, hi = 0;
  for (const double x : {0.0, image.width - 1.0})
    for (const double y : {0.0, image.height - 1.0}) lo = std::min(lo, x * dx + y * dy), hi = std::max(hi, x * dx + y * dy);
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x) put(image, x, y, a, b, (x * dx + y * dy - lo) / (hi - lo));
}

// Value noise: random values on a coarse grid, interpolated smoothly, plus a little grain.
void noise(io::Image& image, SynthRandom& random) {
  const io::Rgb a = random_color(random), b = random_color(random);
  const int cell = random.integer(16, 64);
  const int gw = image.width / cell + 2, gh = image.height / cell + 2;
  std::vector<double> grid(static_cast<std::size_t>(gw) * gh);
  for (double& g : grid) g = random.uniform();
  const double grain = random.uniform(0.0, 0.08);
  const auto smooth = [](double t) { return t * t * (3 - 2 * t); };
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x) {
      const int gx = x / cell, gy = y / cell;
      const double tx = smooth(static_cast<double>(x % cell) / cell), ty = smooth(static_cast<double>(y % cell) / cell);
      const auto g = [&](int i, int j) { return grid[static_cast<std::size_t>(gy + j) * gw + gx + i]; };
      const double v = (g(0, 0) * (1 - tx) + g(1, 0) * tx) * (1 - ty) + (g(0, 1) * (1 - tx) + g(1, 1) * tx) * ty;
      put(image, x, y, a, b, std::clamp(v + grain * (random.uniform() - 0.5), 0.0, 1.0));
    }
}

void shapes(io::Image& image, SynthRandom& random) {
  const io::Rgb base = random_color(random);
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x) put(image, x, y, base, base, 0);
  const int count = random.integer(3, 8);
  const double size = std::min(image.width, image.height);
  for (int i = 0; i < count; ++i) {
    const Pose pose{{random.uniform(0, image.width), random.uniform(0, image.height)}, random.uniform(0, std::numbers::pi)};
    const double hx = random.uniform(0.05, 0.3) * size, hy = random.uniform(0.05, 0.3) * size;
    const double opacity = random.uniform(0.5, 1.0);
    if (random.chance(0.5))
      fill_box(image, pose, hx, hy, random_color(random), opacity);
    else
      fill_ellipse(image, pose, hx, hy, random_color(random), opacity);
  }
}

}  // namespace

std::string paint_background(io::Image& image, SynthRandom& random) {
  GLER_CHECK(image.channels == 3 && !image.empty(), "paint_background needs a non-empty RGB image");
  switch (random.integer(0, 2)) {
    case 0: gradient(image, random); return "gradient";
    case 1: noise(image, random); return "noise";
    default: shapes(image, random); return "shapes";
  }
}

}  // namespace gler::synth
