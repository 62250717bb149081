// train/data augmentation draws: RandomResizedCrop boxes as torchvision 0.2.1 draws them (in the
// image, scale and aspect ratio in range, the centred-square fallback), flips with probability
// 1/2, and generators that are pure functions of (seed, epoch, position).
#include <doctest/doctest.h>

#include <cmath>
#include <set>

#include "train/data/augment.h"
#include "train/data/random_streams.h"

using namespace gler;
using namespace gler::train;

TEST_CASE("uniform01 is in [0, 1) and evenly spread; uniform_below stays below n") {
  Generator gen(3);
  double sum = 0;
  int low = 0;
  for (int i = 0; i < 20000; ++i) {
    const double u = uniform01(gen);
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    sum += u;
    low += u < 0.25;
  }
  CHECK(std::abs(sum / 20000 - 0.5) < 0.01);
  CHECK(std::abs(low / 20000.0 - 0.25) < 0.015);
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 200; ++i) {
    const std::uint64_t k = uniform_below(gen, 5);
    REQUIRE(k < 5);
    seen.insert(k);
  }
  CHECK(seen.size() == 5);
  CHECK(uniform_below(gen, 1) == 0);
}

TEST_CASE("derived seeds differ by seed, epoch and position, and repeat exactly") {
  CHECK(example_seed(0, 0, 0) == example_seed(0, 0, 0));
  std::set<std::uint64_t> keys;
  for (std::uint64_t seed : {0ull, 1ull})
    for (std::int64_t epoch : {0, 1, 2})
      for (std::size_t position : {0u, 1u, 2u, 1000u}) keys.insert(example_seed(seed, epoch, position));
  for (std::int64_t epoch : {0, 1, 2}) keys.insert(shuffle_seed(0, epoch));
  CHECK(keys.size() == 2 * 3 * 4 + 3);
  Generator a(example_seed(5, 2, 9)), b(example_seed(5, 2, 9));
  const GlobalAugmentation x = draw_global_augmentation(640, 480, a), y = draw_global_augmentation(640, 480, b);
  CHECK(x.box.top == y.box.top);
  CHECK(x.box.left == y.box.left);
  CHECK(x.box.height == y.box.height);
  CHECK(x.box.width == y.box.width);
  CHECK(x.flip == y.flip);
}

TEST_CASE("RandomResizedCrop boxes: inside the image, area 8-100 %, aspect 3/4-4/3 either way, flips half the time") {
  Generator gen(11);
  const int width = 1000, height = 800;
  int flips = 0, swapped = 0;
  double scale_sum = 0;
  const int draws = 4000;
  for (int i = 0; i < draws; ++i) {
    const GlobalAugmentation a = draw_global_augmentation(width, height, gen);
    const CropBox& b = a.box;
    REQUIRE(b.top >= 0);
    REQUIRE(b.left >= 0);
    REQUIRE(b.top + b.height <= height);
    REQUIRE(b.left + b.width <= width);
    const double scale = static_cast<double>(b.width) * b.height / (width * height);
    CHECK(scale >= 0.079);
    CHECK(scale <= 1.0);
    const double ratio = static_cast<double>(b.width) / b.height;
    CHECK(((ratio >= 0.74 && ratio <= 1.34) || (1 / ratio >= 0.74 && 1 / ratio <= 1.34)));
    swapped += b.height > b.width;
    scale_sum += scale;
    flips += a.flip;
  }
  CHECK(std::abs(flips / static_cast<double>(draws) - 0.5) < 0.03);
  CHECK(swapped > draws / 4);
  // Accepted scales: U(0.08, 1) less the boxes that do not fit, so the mean is a little below 0.54.
  CHECK(scale_sum / draws > 0.4);
  CHECK(scale_sum / draws < 0.54);
}

TEST_CASE("RandomResizedCrop falls back to the centred square when no attempt fits") {
  // A 1000x3 strip: every box of 8 % of its area and ratio in [3/4, 4/3] is taller than 3 pixels.
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    Generator gen(seed);
    const CropBox b = random_resized_crop_box(1000, 3, gen);
    CHECK(b.width == 3);
    CHECK(b.height == 3);
    CHECK(b.top == 0);
    CHECK(b.left == 498);
  }
  Generator gen(1);
  const CropBox tiny = random_resized_crop_box(1, 1, gen);
  CHECK(tiny.width == 1);
  CHECK(tiny.height == 1);
}
