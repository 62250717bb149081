// Pillow 9.x Image.resize for 8-bit images (libImaging/Resample.c), reproduced bit for bit: the
// filter weights are computed in double exactly as Pillow does, then rounded to 22-bit fixed
// point; each pass accumulates in int32 and rounds and clips to 8 bits.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "io/image.h"

namespace gler::io {

namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // leaves room for negative lobes and overshoot

double bilinear(double x) {
  x = std::abs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

// Keys' cubic with a = -0.5, written in Pillow's order of operations.
double bicubic(double x) {
  constexpr double a = -0.5;
  x = std::abs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

// For each output position along one axis: the first input index, how many inputs it reads, and
// their fixed-point weights (`taps` per position, zero-padded).
struct AxisWeights {
  int taps = 0;
  std::vector<int> first, count;
  std::vector<std::int32_t> weights;
};

AxisWeights axis_weights(int in_size, int out_size, ResampleFilter filter) {
  const double support_1 = filter == ResampleFilter::bilinear ? 1.0 : 2.0;
  double (*kernel)(double) = filter == ResampleFilter::bilinear ? bilinear : bicubic;
  const double scale = static_cast<double>(in_size) / out_size;
  // Downscaling widens the filter so that every input pixel contributes.
  const double filter_scale = std::max(scale, 1.0);
  const double support = support_1 * filter_scale;
  AxisWeights w;
  w.taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  w.first.resize(out_size);
  w.count.resize(out_size);
  w.weights.assign(static_cast<std::size_t>(out_size) * w.taps, 0);
  std::vector<double> k(w.taps);
  for (int i = 0; i < out_size; ++i) {
    const double center = (i + 0.5) * scale;
    // Pillow rounds the window ends with a +0.5 truncation.
    const int lo = std::max(static_cast<int>(center - support + 0.5), 0);
    const int hi = std::min(static_cast<int>(center + support + 0.5), in_size);
    const int n = hi - lo;
    double sum = 0.0;
    for (int j = 0; j < n; ++j) {
      k[j] = kernel((j + lo - center + 0.5) * (1.0 / filter_scale));
      sum += k[j];
    }
    for (int j = 0; j < n; ++j) {
      if (sum != 0.0) k[j] /= sum;
      const double fixed = k[j] * (1 << kPrecisionBits);
      w.weights[static_cast<std::size_t>(i) * w.taps + j] = static_cast<std::int32_t>(fixed < 0 ? -0.5 + fixed : 0.5 + fixed);
    }
    w.first[i] = lo;
    w.count[i] = n;
  }
  return w;
}

std::uint8_t clip8(std::int32_t sum) {
  return static_cast<std::uint8_t>(std::clamp(sum >> kPrecisionBits, 0, 255));
}

// Output rows [0, out.height) from input rows [row0, row0 + out.height), columns resampled.
// Colour rows are widened to int32, so that a tap of an output pixel is one 4-lane vector
// multiply-add for all its channels (for RGB the fourth lane holds the next pixel's red, or the
// row's padding, and its sum is overwritten by the next pixel's or lands in the padding), and the
// sums of a row are clipped to 8 bits in one pass. Every pixel runs all `taps` taps, the ones past
// its count with weight 0 over the zero padding: a fixed trip count, where a varying one cost a
// mispredicted branch per pixel. Integer sums: the order of the terms, and zero terms, change nothing.
void resample_horizontal(const Image& in, int row0, const AxisWeights& w, Image& out) {
  const int c = in.channels;
  constexpr std::int32_t half = 1 << (kPrecisionBits - 1);
  if (c == 1) {
    for (int y = 0; y < out.height; ++y) {
      const std::uint8_t* src = in.row(row0 + y);
      std::uint8_t* dst = out.row(y);
      for (int x = 0; x < out.width; ++x) {
        const std::int32_t* k = &w.weights[static_cast<std::size_t>(x) * w.taps];
        const std::uint8_t* s = src + w.first[x];
        std::int32_t sum = half;
        for (int j = 0; j < w.count[x]; ++j) sum += s[j] * k[j];
        dst[x] = clip8(sum);
      }
    }
    return;
  }
  using Pixel = std::int32_t __attribute__((vector_size(16)));
  const std::size_t row_values = static_cast<std::size_t>(in.width) * c;
  const std::size_t out_values = static_cast<std::size_t>(out.width) * c;
  std::vector<std::int32_t> wide(row_values + static_cast<std::size_t>(w.taps) * c + 1, 0), sums(out_values + 1);
  for (int y = 0; y < out.height; ++y) {
    const std::uint8_t* src = in.row(row0 + y);
    for (std::size_t i = 0; i < row_values; ++i) wide[i] = src[i];
    for (int x = 0; x < out.width; ++x) {
      const std::int32_t* k = &w.weights[static_cast<std::size_t>(x) * w.taps];
      const std::int32_t* s = wide.data() + static_cast<std::size_t>(w.first[x]) * c;
      Pixel sum = {half, half, half, half};
      for (int j = 0; j < w.taps; ++j) {
        Pixel p;
        std::memcpy(&p, s + j * c, sizeof p);
        sum += p * k[j];
      }
      std::memcpy(sums.data() + static_cast<std::size_t>(x) * c, &sum, sizeof sum);
    }
    std::uint8_t* dst = out.row(y);
    for (std::size_t i = 0; i < out_values; ++i) dst[i] = clip8(sums[i]);
  }
}

// Rows resampled; w.first is relative to input row `row0`. One input row at a time into a row of
// sums, so the inner loop runs along the row and vectorises.
void resample_vertical(const Image& in, int row0, const AxisWeights& w, Image& out) {
  const std::size_t stride = static_cast<std::size_t>(in.width) * in.channels;
  std::vector<std::int32_t> sums(stride);
  for (int y = 0; y < out.height; ++y) {
    const std::int32_t* k = &w.weights[static_cast<std::size_t>(y) * w.taps];
    const std::uint8_t* src = in.row(w.first[y] - row0);
    std::fill(sums.begin(), sums.end(), 1 << (kPrecisionBits - 1));
    for (int j = 0; j < w.count[y]; ++j) {
      const std::uint8_t* r = src + j * stride;
      const std::int32_t kj = k[j];
      for (std::size_t i = 0; i < stride; ++i) sums[i] += r[i] * kj;
    }
    std::uint8_t* dst = out.row(y);
    for (std::size_t i = 0; i < stride; ++i) dst[i] = clip8(sums[i]);
  }
}

Image resample(const Image& in, int width, int height, ResampleFilter filter) {
  const bool horizontal = width != in.width, vertical = height != in.height;
  const AxisWeights wx = axis_weights(in.width, width, filter);
  const AxisWeights wy = axis_weights(in.height, height, filter);
  Image out(width, height, in.channels);
  if (!horizontal) {
    resample_vertical(in, 0, wy, out);
    return out;
  }
  if (!vertical) {
    resample_horizontal(in, 0, wx, out);
    return out;
  }
  // As Pillow: the horizontal pass only makes the input rows the vertical pass reads.
  const int row0 = wy.first.front(), row1 = wy.first.back() + wy.count.back();
  Image temp(width, row1 - row0, in.channels);
  resample_horizontal(in, row0, wx, temp);
  resample_vertical(temp, row0, wy, out);
  return out;
}

// Pillow resizes RGBA as premultiplied RGBa (convert, resize, convert back), using
// Convert.c's rgbA2rgba (MULDIV255 rounding) and rgba2rgbA (truncating division).
void premultiply(Image& rgba) {
  for (std::size_t i = 0; i < rgba.pixels.size(); i += 4) {
    const int alpha = rgba.pixels[i + 3];
    for (int c = 0; c < 3; ++c) {
      const int t = rgba.pixels[i + c] * alpha + 128;
      rgba.pixels[i + c] = static_cast<std::uint8_t>(((t >> 8) + t) >> 8);
    }
  }
}

void unpremultiply(Image& rgba) {
  for (std::size_t i = 0; i < rgba.pixels.size(); i += 4) {
    const int alpha = rgba.pixels[i + 3];
    if (alpha == 0 || alpha == 255) continue;
    for (int c = 0; c < 3; ++c) rgba.pixels[i + c] = static_cast<std::uint8_t>(std::min(255 * rgba.pixels[i + c] / alpha, 255));
  }
}

}  // namespace

Image resize_pillow(const Image& image, int width, int height, ResampleFilter filter) {
  GLER_CHECK(width > 0 && height > 0, "resize to " << width << "x" << height << ": width and height must be > 0");
  GLER_CHECK(!image.empty(), "resize of an empty " << image.width << "x" << image.height << " image");
  GLER_CHECK(image.channels == 1 || image.channels == 3 || image.channels == 4,
             "resize expects 1, 3 or 4 channels, got " << image.channels);
  if (width == image.width && height == image.height) return image;
  if (image.channels != 4) return resample(image, width, height, filter);
  Image premultiplied = image;
  premultiply(premultiplied);
  Image out = resample(premultiplied, width, height, filter);
  unpremultiply(out);
  return out;
}

}  // namespace gler::io
