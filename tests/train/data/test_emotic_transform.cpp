// train/data EmotiC transform (SEED_SPEC §5): the seed's loading (greyscale replicated, RGBA's
// first 3, the 2-row hack, /255), Rescale(224)'s sizes, the skimage resize computed on a window
// equal to the same part of the whole, RandomCrop(224)'s offsets in range and deterministic.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/image.h"
#include "tests/support/temp_dir.h"
#include "tests/train/data/tiny_emotiw.h"
#include "train/data/emotic_dataset.h"
#include "train/data/random_streams.h"

namespace fs = std::filesystem;
using namespace gler;
using namespace gler::train;

namespace {

FloatImage random_image(int h, int w, int c, unsigned seed) {
  FloatImage im;
  im.height = h;
  im.width = w;
  im.channels = c;
  std::uint32_t s = seed * 2654435761u + 1;
  for (std::size_t i = 0; i < static_cast<std::size_t>(h) * w * c; ++i) {
    s = s * 1664525u + 1013904223u;
    im.values.push_back(static_cast<float>((s >> 8) & 0xffff) / 65535.0f);
  }
  return im;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("Rescale(224) sizes: shorter side 224, longer int(224*long/short)") {
  CHECK(emotic_rescale_size(480, 640).height == 224);
  CHECK(emotic_rescale_size(480, 640).width == 298);  // 298.67
  CHECK(emotic_rescale_size(640, 480).height == 298);
  CHECK(emotic_rescale_size(640, 480).width == 224);
  CHECK(emotic_rescale_size(224, 224).width == 224);
  CHECK(emotic_rescale_size(300, 300).height == 224);
  CHECK(emotic_rescale_size(300, 301).width == 224);   // 224.75
  CHECK(emotic_rescale_size(100, 300).width == 672);   // exact
  CHECK(emotic_rescale_size(7, 10).width == 320);      // 320.0
  CHECK(emotic_rescale_size(1, 3).width == 672);
}

TEST_CASE("the seed's loading: greyscale replicated, RGBA's first 3, the 2-row hack, /255 in double") {
  io::Image grey = test::pattern_image(5, 4, 1, 3);
  FloatImage g = emotic_float_image(grey);
  REQUIRE(g.height == 4);
  REQUIRE(g.width == 5);
  REQUIRE(g.channels == 3);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 5; ++x)
      for (int c = 0; c < 3; ++c) CHECK(g.at(y, x, c) == static_cast<float>(grey.row(y)[x] / 255.0));

  io::Image rgba = test::pattern_image(3, 6, 4, 5);
  FloatImage r = emotic_float_image(rgba);
  REQUIRE(r.channels == 3);
  for (int y = 0; y < 6; ++y)
    for (int x = 0; x < 3; ++x)
      for (int c = 0; c < 3; ++c) CHECK(r.at(y, x, c) == static_cast<float>(rgba.row(y)[x * 4 + c] / 255.0));

  // Two rows: image[0], a (W, 3) array, taken for a W-high, 3-wide greyscale image.
  io::Image two = test::pattern_image(7, 2, 3, 9);
  FloatImage t = emotic_float_image(two);
  REQUIRE(t.height == 7);
  REQUIRE(t.width == 3);
  for (int y = 0; y < 7; ++y)
    for (int x = 0; x < 3; ++x)
      for (int c = 0; c < 3; ++c) CHECK(t.at(y, x, c) == static_cast<float>(two.row(0)[y * 3 + x] / 255.0));
  CHECK_THROWS_AS(emotic_float_image(test::pattern_image(7, 2, 1, 9)), Error);
}

TEST_CASE("skimage resize: a window equals that part of the whole; identity and constants kept") {
  struct Case {
    int h, w, oh, ow;
  };
  for (const Case& k : {Case{300, 457, 224, 341}, Case{100, 150, 224, 336}, Case{230, 1000, 224, 973}, Case{9, 5, 37, 20},
                        Case{50, 40, 20, 60}}) {
    CAPTURE(k.h);
    CAPTURE(k.w);
    const FloatImage im = random_image(k.h, k.w, 3, static_cast<unsigned>(k.h * 7 + k.w));
    const FloatImage whole = skimage_resize(im, k.oh, k.ow);
    REQUIRE(whole.values.size() == static_cast<std::size_t>(k.oh) * k.ow * 3);
    const int rows = std::min(k.oh, 13), cols = std::min(k.ow, 11);
    for (const auto& [top, left] : std::vector<std::pair<int, int>>{{0, 0}, {k.oh - rows, k.ow - cols}, {(k.oh - rows) / 2, (k.ow - cols) / 3}}) {
      const FloatImage win = skimage_resize_window(im, k.oh, k.ow, top, left, rows, cols);
      std::vector<float> expect;
      for (int y = top; y < top + rows; ++y)
        for (int x = left; x < left + cols; ++x)
          for (int c = 0; c < 3; ++c) expect.push_back(whole.at(y, x, c));
      CHECK(same_bits(win.values, expect));
    }
    float lo = 1, hi = 0;
    for (float v : im.values) lo = std::min(lo, v), hi = std::max(hi, v);
    for (float v : whole.values) CHECK((v >= lo && v <= hi));
  }
  const FloatImage im = random_image(224, 224, 3, 1);
  CHECK(same_bits(skimage_resize(im, 224, 224).values, im.values));
  FloatImage flat = random_image(301, 450, 3, 2);
  for (float& v : flat.values) v = 0.25f;
  for (float v : skimage_resize(flat, 224, 334).values) CHECK(std::fabs(v - 0.25f) < 1e-6f);
  CHECK_THROWS_AS(skimage_resize_window(im, 100, 100, 90, 0, 20, 10), Error);
}

TEST_CASE("RandomCrop(224) offsets: uniform_below(d - 224), in range, deterministic for a seed") {
  std::set<int> tops, lefts;
  for (std::uint64_t seed = 0; seed < 400; ++seed) {
    Generator a(seed), b(seed);
    const CropOffset c = draw_emotic_crop(230, 224, a);
    CHECK(c.top >= 0);
    CHECK(c.top < 6);
    CHECK(c.left == 0);
    const CropOffset d = draw_emotic_crop(230, 224, b);
    CHECK(d.top == c.top);
    Generator e(seed);
    CHECK(c.top == static_cast<int>(uniform_below(e, 6)));
    tops.insert(c.top);
    Generator f(seed);
    const CropOffset w = draw_emotic_crop(224, 298, f);
    CHECK(w.top == 0);
    CHECK(w.left >= 0);
    CHECK(w.left < 74);
    lefts.insert(w.left);
    Generator g(seed);
    CHECK(draw_emotic_crop(225, 224, g).top == 0);  // randint(0, 1)
    Generator h(seed);
    const CropOffset z = draw_emotic_crop(224, 224, h);
    CHECK((z.top == 0 && z.left == 0));
  }
  CHECK(tops.size() == 6);      // every offset of [0, 6) drawn (and 6 = d − 224 never)
  CHECK(lefts.size() > 60);
  Generator g(1);
  CHECK_THROWS_AS(draw_emotic_crop(223, 300, g), Error);
}
