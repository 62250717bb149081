#include "io/preprocess.h"

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/error.h"

namespace gler::io {
namespace {

// torchvision's Normalize holds its constants as float32 tensors.
constexpr std::array<float, 3> kMean{0.485f, 0.456f, 0.406f};
constexpr std::array<float, 3> kStd{0.229f, 0.224f, 0.225f};

// ToTensor then Normalize: (u8 / 255 − mean) / std, each step rounded to float32 as PyTorch does.
float normalized(std::uint8_t v, int channel) { return (static_cast<float>(v) / 255.0f - kMean[channel]) / kStd[channel]; }

}  // namespace

void global_image_tensor(const Image& decoded, bool seed_compat, float* dst) {
  GLER_CHECK(decoded.channels == 1 || decoded.channels == 3 || decoded.channels == 4,
             "global image: expected 1, 3 or 4 channels, got " << decoded.channels);
  const bool red_only = seed_compat && decoded.channels == 1;
  const Image resized = resize_pillow(red_only || decoded.channels == 3 ? decoded : to_rgb(decoded), kGlobalImageSize,
                                      kGlobalImageSize);
  const std::size_t plane = static_cast<std::size_t>(kGlobalImageSize) * kGlobalImageSize;
  const std::uint8_t* src = resized.pixels.data();
  if (red_only) {
    for (std::size_t i = 0; i < plane; ++i) dst[i] = normalized(src[i], 0);
    for (int c = 1; c < 3; ++c)
      for (std::size_t i = 0; i < plane; ++i) dst[c * plane + i] = dst[i];
    return;
  }
  for (int c = 0; c < 3; ++c)
    for (std::size_t i = 0; i < plane; ++i) dst[c * plane + i] = normalized(src[3 * i + c], c);
}

void face_tensor(const Image& crop, bool seed_compat, float* dst) {
  GLER_CHECK(crop.channels == 1 || crop.channels == 3, "face crop: expected 1 or 3 channels, got " << crop.channels);
  const std::size_t plane = static_cast<std::size_t>(crop.width) * crop.height;
  const std::size_t step = static_cast<std::size_t>(crop.channels);
  for (int c = 0; c < 3; ++c) {
    const std::uint8_t* src = crop.pixels.data() + (crop.channels == 3 ? c : 0);
    float* out = dst + c * plane;
    if (seed_compat)
      for (std::size_t i = 0; i < plane; ++i) out[i] = static_cast<float>(src[i * step]) / 255.0f;
    else
      for (std::size_t i = 0; i < plane; ++i) out[i] = (static_cast<float>(src[i * step]) - 127.5f) / 128.0f;
  }
}

}  // namespace gler::io
