#include "io/resize_tfjs.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "core/error.h"

namespace gler::io {

std::vector<float> resize_bilinear_tfjs(const float* src, int height, int width, int channels, int out_height,
                                        int out_width, bool align_corners, bool half_pixel_centers) {
  GLER_CHECK(height > 0 && width > 0 && channels > 0 && out_height > 0 && out_width > 0,
             "resize_bilinear_tfjs: sizes must be positive, got " << height << "x" << width << "x" << channels << " -> "
                                                                  << out_height << "x" << out_width);
  GLER_CHECK(!(align_corners && half_pixel_centers),
             "resize_bilinear_tfjs: align_corners and half_pixel_centers cannot both be set");
  const double scale_y = align_corners && out_height > 1 ? static_cast<double>(height - 1) / (out_height - 1)
                                                         : static_cast<double>(height) / out_height;
  const double scale_x = align_corners && out_width > 1 ? static_cast<double>(width - 1) / (out_width - 1)
                                                        : static_cast<double>(width) / out_width;
  auto source = [&](int o, double scale) { return half_pixel_centers ? scale * (o + 0.5) - 0.5 : scale * o; };
  const std::size_t row = static_cast<std::size_t>(width) * channels;
  std::vector<float> out(static_cast<std::size_t>(out_height) * out_width * channels);
  float* dst = out.data();
  for (int y = 0; y < out_height; ++y) {
    const double sy = source(y, scale_y);
    const double top_row = std::max(0.0, std::floor(sy));
    const double row_frac = sy - top_row;
    const int bottom_row = std::min(height - 1, static_cast<int>(std::ceil(sy)));
    const float* top = src + static_cast<std::size_t>(top_row) * row;
    const float* bottom = src + static_cast<std::size_t>(bottom_row) * row;
    for (int x = 0; x < out_width; ++x) {
      const double sx = source(x, scale_x);
      const double left_col = std::max(0.0, std::floor(sx));
      const double col_frac = sx - left_col;
      const int right_col = std::min(width - 1, static_cast<int>(std::ceil(sx)));
      const std::size_t left = static_cast<std::size_t>(left_col) * channels;
      const std::size_t right = static_cast<std::size_t>(right_col) * channels;
      for (int c = 0; c < channels; ++c) {
        const double tl = top[left + c], tr = top[right + c], bl = bottom[left + c], br = bottom[right + c];
        const double t = tl + (tr - tl) * col_frac;
        const double b = bl + (br - bl) * col_frac;
        *dst++ = static_cast<float>(t + (b - t) * row_frac);
      }
    }
  }
  return out;
}

}  // namespace gler::io
