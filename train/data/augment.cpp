#include "train/data/augment.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "core/error.h"
#include "io/preprocess.h"
#include "train/data/random_streams.h"

namespace gler::train {
namespace {

constexpr int kAttempts = 10;
constexpr double kMinScale = 0.08, kMaxScale = 1.0, kMinRatio = 3.0 / 4.0, kMaxRatio = 4.0 / 3.0;

// Python's random.uniform(a, b).
double uniform(Generator& gen, double a, double b) { return a + (b - a) * uniform01(gen); }

// Python's random.randint(a, b), both ends included.
int randint(Generator& gen, int a, int b) { return a + static_cast<int>(uniform_below(gen, static_cast<std::uint64_t>(b - a) + 1)); }

// Python 3's round(x) for x >= 0: halves go to the even neighbour.
int python_round(double x) {
  const double f = std::floor(x), d = x - f;
  const double r = d > 0.5 ? f + 1 : d < 0.5 ? f : (std::fmod(f, 2.0) == 0 ? f : f + 1);
  return static_cast<int>(r);
}

}  // namespace

CropBox random_resized_crop_box(int width, int height, Generator& gen) {
  GLER_CHECK(width >= 1 && height >= 1, "RandomResizedCrop: empty image " << width << "x" << height);
  const double area = static_cast<double>(width) * height;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    const double target_area = uniform(gen, kMinScale, kMaxScale) * area;
    const double aspect_ratio = uniform(gen, kMinRatio, kMaxRatio);
    int w = python_round(std::sqrt(target_area * aspect_ratio));
    int h = python_round(std::sqrt(target_area / aspect_ratio));
    if (uniform01(gen) < 0.5) std::swap(w, h);
    // torchvision would also take an empty box (a tiny image) and then fail in resize.
    if (w >= 1 && h >= 1 && w <= width && h <= height) {
      const int top = randint(gen, 0, height - h);
      const int left = randint(gen, 0, width - w);
      return {top, left, h, w};
    }
  }
  const int side = std::min(width, height);
  return {(height - side) / 2, (width - side) / 2, side, side};
}

GlobalAugmentation draw_global_augmentation(int width, int height, Generator& gen) {
  GlobalAugmentation a;
  a.box = random_resized_crop_box(width, height, gen);
  a.flip = uniform01(gen) < 0.5;
  return a;
}

void augmented_global_tensor(const io::Image& decoded, const GlobalAugmentation& augmentation, bool seed_compat, float* dst) {
  const CropBox& b = augmentation.box;
  GLER_CHECK(b.width >= 1 && b.height >= 1 && b.left >= 0 && b.top >= 0 && b.left + b.width <= decoded.width &&
                 b.top + b.height <= decoded.height,
             "crop box (" << b.left << ", " << b.top << ") " << b.width << "x" << b.height << " outside the "
                          << decoded.width << "x" << decoded.height << " image");
  const io::Image crop = io::crop_pillow(decoded, b.left, b.top, b.left + b.width, b.top + b.height);
  io::global_image_tensor(crop, seed_compat, dst);
  if (!augmentation.flip) return;
  constexpr std::size_t side = io::kGlobalImageSize;
  for (std::size_t row = 0; row < 3 * side; ++row) std::reverse(dst + row * side, dst + (row + 1) * side);
}

void center_crop_global_tensor(const io::Image& decoded, bool seed_compat, float* dst) {
  constexpr int kResize = 256, kCrop = io::kGlobalImageSize;
  const int w = decoded.width, h = decoded.height;
  int ow = w, oh = h;
  if (std::min(w, h) != kResize) {
    // int(size * long / short) in double, as Python computes it.
    if (w < h) {
      ow = kResize;
      oh = static_cast<int>(static_cast<double>(kResize) * h / w);
    } else {
      oh = kResize;
      ow = static_cast<int>(static_cast<double>(kResize) * w / h);
    }
  }
  const io::Image resized = ow == w && oh == h ? decoded : io::resize_pillow(decoded, ow, oh);
  const auto offset = [](int side) { return static_cast<int>(std::nearbyint((side - kCrop) / 2.0)); };  // half to even
  const int top = offset(oh), left = offset(ow);
  io::global_image_tensor(io::crop_pillow(resized, left, top, left + kCrop, top + kCrop), seed_compat, dst);
}

}  // namespace gler::train
