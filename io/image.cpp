#include "io/image.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "io/files.h"
#include "io/image_decoders.h"

namespace gler::io {

Image::Image(int width, int height, int channels) : width(width), height(height), channels(channels) {
  GLER_CHECK(width >= 0 && height >= 0, "image size must not be negative, got " << width << "x" << height);
  GLER_CHECK(channels == 1 || channels == 3 || channels == 4,
             "an image has 1, 3 or 4 channels, got " << channels);
  pixels.assign(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * channels, 0);
}

namespace detail {

void check_decoded_size(std::uint64_t width, std::uint64_t height, const DecodeOptions& options,
                        const std::string& source) {
  GLER_CHECK(width > 0 && height > 0, source << ": image has no pixels (" << width << "x" << height << ")");
  GLER_CHECK(width <= 65535 && height <= 65535,
             source << ": image is " << width << "x" << height << ", each side must be at most 65535");
  GLER_CHECK(width * height <= options.max_pixels, source << ": image is " << width << "x" << height << " = "
                                                          << width * height << " pixels, more than the limit of "
                                                          << options.max_pixels);
}

}  // namespace detail

namespace {

bool is_jpeg(const std::vector<std::uint8_t>& b) {
  return b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
}

}  // namespace

Image decode_image(const std::vector<std::uint8_t>& bytes, const std::string& source_name,
                   const DecodeOptions& options) {
  GLER_CHECK(!bytes.empty(), source_name << ": empty file, expected an image");
  if (!is_jpeg(bytes)) return detail::decode_stb(bytes.data(), bytes.size(), source_name, options);
  detail::DecodedJpeg jpeg = detail::decode_jpeg(bytes.data(), bytes.size(), source_name, options);
  if (!options.exif_rotate) return std::move(jpeg.image);
  return detail::apply_orientation(jpeg.image, detail::exif_orientation(jpeg.exif));
}

Image read_image(const std::string& path, const DecodeOptions& options) {
  return decode_image(read_bytes(path), path, options);
}

Image to_rgb(const Image& image) {
  if (image.channels == 3) return image;
  GLER_CHECK(image.channels == 1 || image.channels == 4,
             "to_rgb expects 1, 3 or 4 channels, got " << image.channels);
  Image out(image.width, image.height, 3);
  const std::size_t n = static_cast<std::size_t>(image.width) * image.height;
  const std::uint8_t* in = image.pixels.data();
  std::uint8_t* o = out.pixels.data();
  for (std::size_t i = 0; i < n; ++i, o += 3, in += image.channels) {
    // Grey is replicated; RGBA keeps R, G, B and drops alpha, without compositing.
    o[0] = in[0];
    o[1] = image.channels == 1 ? in[0] : in[1];
    o[2] = image.channels == 1 ? in[0] : in[2];
  }
  return out;
}

namespace {

// Python's round() of a float: half to even. Done by hand so that it does not depend on the
// floating-point rounding mode.
long long round_half_even(double v) {
  const double down = std::floor(v);
  const double diff = v - down;
  const double r = diff < 0.5 ? down : diff > 0.5 ? down + 1 : (std::fmod(down, 2.0) == 0 ? down : down + 1);
  return static_cast<long long>(r);
}

}  // namespace

Image crop_pillow(const Image& image, double x1, double y1, double x2, double y2) {
  for (double v : {x1, y1, x2, y2})
    GLER_CHECK(std::isfinite(v) && std::abs(v) < 1e9, "crop box coordinate " << v << " is not a finite number below 1e9");
  // Pillow raises ValueError for these before rounding.
  GLER_CHECK(x2 >= x1, "crop box right " << x2 << " is less than left " << x1);
  GLER_CHECK(y2 >= y1, "crop box lower " << y2 << " is less than upper " << y1);
  const long long left = round_half_even(x1), top = round_half_even(y1);
  const long long width = round_half_even(x2) - left, height = round_half_even(y2) - top;
  // Pillow's crop applies its decompression-bomb limit too.
  const std::uint64_t limit = DecodeOptions{}.max_pixels;
  GLER_CHECK(static_cast<std::uint64_t>(width) * static_cast<std::uint64_t>(height) <= limit,
             "crop box is " << width << "x" << height << " pixels, more than the limit of " << limit);
  Image out(static_cast<int>(width), static_cast<int>(height), image.channels);
  // Copy the part of the box that lies inside the image; the rest stays 0.
  const long long x_begin = std::max(0LL, left), x_end = std::min<long long>(image.width, left + width);
  const long long y_begin = std::max(0LL, top), y_end = std::min<long long>(image.height, top + height);
  if (x_begin >= x_end) return out;
  const std::size_t c = image.channels;
  for (long long y = y_begin; y < y_end; ++y)
    std::memcpy(out.row(static_cast<int>(y - top)) + (x_begin - left) * c, image.row(static_cast<int>(y)) + x_begin * c,
                static_cast<std::size_t>(x_end - x_begin) * c);
  return out;
}

}  // namespace gler::io
