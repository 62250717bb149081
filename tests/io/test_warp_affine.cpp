// warp_affine properties that need no reference: the identity and integer shifts copy pixels,
// the border is 0, invert_affine inverts, bad arguments throw.
#include <doctest/doctest.h>

#include <cstdint>

#include "io/warp_affine.h"
#include "tests/support/tensors.h"

using namespace gler;
using gler::io::Affine;
using gler::io::Image;
using gler::io::WarpInterpolation;

namespace {
Image pattern(int width, int height, int channels) {
  Image im(width, height, channels);
  for (std::size_t i = 0; i < im.pixels.size(); ++i) im.pixels[i] = static_cast<std::uint8_t>((i * 37 + i / 5) % 256);
  return im;
}
}  // namespace

TEST_CASE("warp_affine of the identity and of integer shifts copies pixels, 0 outside") {
  const Image src = pattern(9, 6, 3);
  for (auto interpolation : {WarpInterpolation::cubic, WarpInterpolation::linear}) {
    CHECK(io::warp_affine(src, {1, 0, 0, 0, 1, 0}, 9, 6, interpolation).pixels == src.pixels);
    const Image shifted = io::warp_affine(src, {1, 0, 2, 0, 1, 1}, 10, 6, interpolation);
    CHECK(shifted.width == 10);
    CHECK(shifted.height == 6);
    CHECK(shifted.channels == 3);
    for (int y = 0; y < 6; ++y)
      for (int x = 0; x < 10; ++x)
        for (int c = 0; c < 3; ++c) {
          const bool inside = x >= 2 && x < 11 && y >= 1;
          CHECK(shifted.row(y)[x * 3 + c] == (inside ? src.row(y - 1)[(x - 2) * 3 + c] : 0));
        }
  }
}

TEST_CASE("warp_affine of a constant image keeps the constant away from the border") {
  // Each kernel sums to exactly 2^15 (OpenCV's correction), so a flat image stays flat.
  Image flat(30, 30, 1);
  for (auto& p : flat.pixels) p = 200;
  const Affine M = io::rotation_matrix_2d(15.f, 15.f, 33.3, 1.37);
  for (auto interpolation : {WarpInterpolation::cubic, WarpInterpolation::linear}) {
    const Image out = io::warp_affine(flat, M, 30, 30, interpolation);
    for (int y = 12; y < 18; ++y)
      for (int x = 12; x < 18; ++x) CHECK(out.row(y)[x] == 200);
  }
}

TEST_CASE("invert_affine is OpenCV's inverse and maps a singular matrix to zeros") {
  const Affine M{2, 1, 3, -1, 0.5, 4};
  const Affine inv = io::invert_affine(M);
  const double x = 7.25, y = -3.5;
  const double u = M[0] * x + M[1] * y + M[2], v = M[3] * x + M[4] * y + M[5];
  CHECK(inv[0] * u + inv[1] * v + inv[2] == doctest::Approx(x).epsilon(1e-14));
  CHECK(inv[3] * u + inv[4] * v + inv[5] == doctest::Approx(y).epsilon(1e-14));
  for (double z : io::invert_affine({1, 2, 3, 2, 4, 5})) CHECK(z == 0);
}

TEST_CASE("warp_affine rejects empty sources and empty outputs") {
  const Affine identity{1, 0, 0, 0, 1, 0};
  CHECK(test::error_message([&] { io::warp_affine(Image(), identity, 4, 4); }).find("empty") != std::string::npos);
  CHECK(test::error_message([&] { io::warp_affine(pattern(3, 3, 1), identity, 0, 4); }).find("positive") != std::string::npos);
}
