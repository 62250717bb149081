// warp_affine and rotation_matrix_2d against the real cv2.warpAffine / cv2.getRotationMatrix2D
// (python3-opencv 4.6) on random images and matrices: the outputs must be identical.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "io/warp_affine.h"
#include "tests/support/torch_ref.h"

using namespace gler;
using gler::io::Affine;
using gler::io::Image;
using gler::io::WarpInterpolation;

namespace {

struct WarpCase {
  std::string what;
  Image src;
  Affine M;
  int width, height;
};

// Random noise on top of a gradient: noise drives the cubic kernel's overshoot into saturation,
// the gradient gives smooth areas where rounding of the weights matters.
Image random_image(int width, int height, int channels, std::mt19937& rng) {
  Image im(width, height, channels);
  std::uniform_int_distribution<int> noise(-60, 60);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < channels; ++c) {
        const int base = (x * 255 / width + y * 128 / height + c * 70) % 256;
        im.row(y)[x * channels + c] = static_cast<std::uint8_t>(std::clamp(base + noise(rng), 0, 255));
      }
  return im;
}

// About src (w x h) -> a (ow x oh) output: rotation by `angle` and `scale` around the source centre,
// which lands at the output centre plus (tx, ty).
Affine centred_rotation(int w, int h, int ow, int oh, double angle, double scale, double tx, double ty) {
  Affine M = io::rotation_matrix_2d(static_cast<float>(w / 2.0), static_cast<float>(h / 2.0), angle, scale);
  M[2] += ow / 2.0 - w / 2.0 + tx;
  M[5] += oh / 2.0 - h / 2.0 + ty;
  return M;
}

std::vector<WarpCase> make_cases() {
  std::mt19937 rng(20240611);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<WarpCase> cases;
  const int sizes[][3] = {{37, 29, 1}, {64, 48, 3}, {5, 4, 1}, {3, 7, 3}, {200, 150, 3}, {51, 66, 3}, {20, 17, 4}};
  for (const auto& s : sizes) {
    const int w = s[0], h = s[1], cn = s[2];
    const std::string tag = std::to_string(w) + "x" + std::to_string(h) + "x" + std::to_string(cn);
    Image src = random_image(w, h, cn, rng);
    cases.push_back({tag + " identity", src, {1, 0, 0, 0, 1, 0}, w, h});
    cases.push_back({tag + " integer shift", src, {1, 0, 3, 0, 1, -2}, w + 4, h + 1});
    cases.push_back({tag + " half-pixel shift", src, {1, 0, 0.5, 0, 1, -0.5}, w, h});
    for (int k = 0; k < 6; ++k) {
      const double angle = -180 + 360 * unit(rng), scale = 0.3 + 2.7 * unit(rng);
      const int ow = 10 + static_cast<int>(100 * unit(rng)), oh = 10 + static_cast<int>(100 * unit(rng));
      // Translations up to about half the output size, so many of these map partly outside.
      const double tx = (unit(rng) - 0.5) * ow, ty = (unit(rng) - 0.5) * oh;
      cases.push_back({tag + " rotation " + std::to_string(k), src, centred_rotation(w, h, ow, oh, angle, scale, tx, ty), ow, oh});
    }
    // A general affine map with shear and anisotropic scale.
    cases.push_back({tag + " shear", src, {1.3, 0.4, -2.25, -0.2, 0.8, 3.1}, w + 7, h + 3});
    // Entirely outside the source: all border.
    cases.push_back({tag + " outside", src, {1, 0, 500, 0, 1, -500}, 16, 12});
    // The seed's eye alignment: eyes ~ 24 px apart at (15.3, 27.1)/(39.0, 24.7) of a face crop.
    Affine seed = io::rotation_matrix_2d(27.17160415649414f, 25.904050827026367f, -5.974945068359375, 1.8767772455808018);
    seed[2] += 56 - 27.17160415649414;
    seed[5] += 96 * 0.3 - 25.904050827026367;
    cases.push_back({tag + " seed-style", src, seed, 112, 96});
  }
  return cases;
}

Tensor image_tensor(const Image& im) {
  return Tensor::from_vector(im.pixels, Shape({im.height, im.width, im.channels}));
}

// "name" + index (appending avoids a GCC 12 -Wrestrict false positive on literal + to_string).
std::string key(std::string name, std::size_t index) { return name.append(std::to_string(index)); }

int max_abs_difference(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b) {
  int m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(int(a[i]) - int(b[i])));
  return m;
}

}  // namespace

TEST_CASE("warp_affine equals cv2.warpAffine for cubic and linear interpolation") {
  const std::vector<WarpCase> cases = make_cases();
  test::TorchRef ref;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const WarpCase& c = cases[i];
    ref.put(key("src", i), image_tensor(c.src));
    ref.put(key("M", i), Tensor::from_vector(std::vector<double>(c.M.begin(), c.M.end()), Shape({2, 3})));
    ref.put(key("size", i), Tensor::from_vector(std::vector<std::int64_t>{c.width, c.height}, Shape({2})));
  }
  ref.put("count", Tensor::from_vector(std::vector<std::int64_t>{static_cast<std::int64_t>(cases.size())}, Shape({1})));
  ref.run(R"PY(
import cv2
for i in range(int(load('count')[0])):
    src = load(f'src{i}').numpy()
    M = load(f'M{i}').numpy()
    w, h = (int(v) for v in load(f'size{i}').numpy())
    for name, flag in (('cubic', cv2.INTER_CUBIC), ('linear', cv2.INTER_LINEAR)):
        out = cv2.warpAffine(src, M, (w, h), flags=flag)
        save(f'{name}{i}', out.reshape(h, w, src.shape[2]))
)PY");
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const WarpCase& c = cases[i];
    for (const auto& [name, interpolation] : {std::pair{std::string("cubic"), WarpInterpolation::cubic},
                                              std::pair{std::string("linear"), WarpInterpolation::linear}}) {
      CAPTURE(c.what);
      CAPTURE(name);
      const Image ours = io::warp_affine(c.src, c.M, c.width, c.height, interpolation);
      const std::vector<std::uint8_t> expected = ref.get(key(name, i)).to_vector<std::uint8_t>();
      REQUIRE(ours.pixels.size() == expected.size());
      CHECK(max_abs_difference(ours.pixels, expected) == 0);
    }
  }
}

TEST_CASE("rotation_matrix_2d equals cv2.getRotationMatrix2D") {
  std::mt19937 rng(99);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const int n = 200;
  std::vector<double> params;  // cx, cy (float32 values), angle, scale
  for (int i = 0; i < n; ++i) {
    params.push_back(static_cast<float>(-50 + 300 * unit(rng)));
    params.push_back(static_cast<float>(-50 + 300 * unit(rng)));
    params.push_back(i == 0 ? 90.0 : -400 + 800 * unit(rng));
    params.push_back(0.01 + 4 * unit(rng));
  }
  test::TorchRef ref;
  ref.put("params", Tensor::from_vector(params, Shape({n, 4})));
  ref.run(R"PY(
import cv2
p = load('params').numpy()
save('M', np.stack([cv2.getRotationMatrix2D((float(a), float(b)), float(c), float(d)) for a, b, c, d in p]))
)PY");
  const std::vector<double> expected = ref.get("M").to_vector<double>();
  double worst = 0;
  for (int i = 0; i < n; ++i) {
    const Affine M = io::rotation_matrix_2d(static_cast<float>(params[i * 4]), static_cast<float>(params[i * 4 + 1]),
                                            params[i * 4 + 2], params[i * 4 + 3]);
    for (int k = 0; k < 6; ++k) {
      const double e = expected[i * 6 + k];
      worst = std::max(worst, std::abs(M[k] - e) / std::max(std::abs(e), 1e-300));
    }
  }
  // Same formula, same libm: identical in practice; 1e-12 allows a libm that rounds sin/cos differently.
  CHECK(worst <= 1e-12);
  MESSAGE("rotation_matrix_2d max relative difference to cv2: " << worst);
}
