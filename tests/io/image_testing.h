// Helpers for the io tests: images to and from u8 tensors (for TorchRef, where Python gives
// np.asarray(pil_image): H x W for L, H x W x C otherwise), and an exact comparison.
#pragma once
// Include after <doctest/doctest.h>.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/tensor.h"
#include "io/image.h"

namespace gler::test {

// Pseudo-random pixels (an LCG's high bytes), the same for the same arguments.
inline io::Image random_image(int width, int height, int channels, std::uint32_t seed) {
  io::Image image(width, height, channels);
  std::uint32_t state = seed * 2654435761u + 1;
  for (auto& p : image.pixels) {
    state = state * 1664525u + 1013904223u;
    p = static_cast<std::uint8_t>(state >> 24);
  }
  return image;
}

inline Tensor image_tensor(const io::Image& image) {
  return Tensor::from_vector(image.pixels, Shape({image.height, image.width, image.channels}));
}

inline io::Image tensor_image(const Tensor& t) {
  REQUIRE((t.ndim() == 2 || t.ndim() == 3));
  const int channels = t.ndim() == 2 ? 1 : static_cast<int>(t.size(2));
  io::Image image(static_cast<int>(t.size(1)), static_cast<int>(t.size(0)), channels);
  image.pixels = t.to_vector<std::uint8_t>();
  return image;
}

// Same size and channels, and every byte equal; on failure reports how many differ and by how much.
inline void check_same_image(const io::Image& ours, const io::Image& theirs) {
  REQUIRE(ours.width == theirs.width);
  REQUIRE(ours.height == theirs.height);
  REQUIRE(ours.channels == theirs.channels);
  REQUIRE(ours.pixels.size() == theirs.pixels.size());
  std::size_t differing = 0;
  int max_diff = 0;
  for (std::size_t i = 0; i < ours.pixels.size(); ++i) {
    const int d = std::abs(int(ours.pixels[i]) - int(theirs.pixels[i]));
    differing += d != 0;
    max_diff = std::max(max_diff, d);
  }
  CAPTURE(differing);
  CHECK(max_diff == 0);
}

// A bundled file (GLER_SOURCE_DIR) or one from ../shared (GLER_SHARED_DIR, may be absent).
inline std::string source_path(const std::string& rel) { return std::string(GLER_SOURCE_DIR) + "/" + rel; }
inline std::string shared_path(const std::string& rel) { return std::string(GLER_SHARED_DIR) + "/" + rel; }

}  // namespace gler::test
