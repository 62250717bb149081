// The decoded 8-bit image every later stage works on, and the Pillow-compatible operations the
// seed's pipeline applies to it (decode, convert('RGB'), crop, resize). Pixels are interleaved
// (HWC), rows top to bottom, with 1 (L), 3 (RGB) or 4 (RGBA) channels.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace gler::io {

struct Image {
  int width = 0, height = 0, channels = 0;
  std::vector<std::uint8_t> pixels;  // height * width * channels

  Image() = default;
  Image(int width, int height, int channels);  // zero-filled
  std::uint8_t* row(int y) { return pixels.data() + static_cast<std::size_t>(y) * width * channels; }
  const std::uint8_t* row(int y) const { return pixels.data() + static_cast<std::size_t>(y) * width * channels; }
  bool empty() const { return width == 0 || height == 0; }
};

struct DecodeOptions {
  // Pillow ignores EXIF orientation on open, and so does the seed: off by default. When on, a
  // JPEG's Exif Orientation (1-8) is applied as PIL.ImageOps.exif_transpose does.
  bool exif_rotate = false;
  // Larger images are refused before their pixels are allocated. The default is where Pillow
  // raises DecompressionBombError (2 * Image.MAX_IMAGE_PIXELS); each side is also at most 65535.
  std::uint64_t max_pixels = 178956970;
};

// Decodes JPEG with libjpeg-turbo exactly as Pillow does (ISLOW DCT, fancy upsampling; greyscale
// JPEGs stay 1 channel, CMYK/YCCK become RGB the way Pillow's convert('RGB') does), and PNG, BMP,
// GIF (first frame) and TGA with stb_image. The format is taken from the bytes, not the name.
// Throws gler::Error naming the source on a corrupt, truncated or unsupported file (a JPEG is
// truncated exactly where Pillow says so; PNG, BMP and GIF must also keep the trailer bytes
// stb_image reads, which Pillow would let go). Channels from stb_image: grey 1, RGB 3, RGBA 4; a palette becomes RGB (RGBA with tRNS), as
// Pillow's convert('RGB'/'RGBA') of the P image; grey+alpha becomes RGBA; a GIF is RGB when fully
// opaque, else RGBA with transparent pixels (0, 0, 0, 0) where Pillow keeps the palette colour; a
// 32-bit BMP is RGBA only when its bit fields give alpha (as Pillow); 16-bit PNG samples keep
// their high byte.
Image decode_image(const std::vector<std::uint8_t>& bytes, const std::string& source_name,
                   const DecodeOptions& options = {});
Image read_image(const std::string& path, const DecodeOptions& options = {});

// Pillow's Image.convert('RGB'): L is replicated, RGBA drops alpha (no compositing).
Image to_rgb(const Image& image);

// Pillow's Image.crop((x1, y1, x2, y2)) with float coordinates: each is rounded half to even
// (Python round), x2/y2 are exclusive, and the area outside the image is 0.
Image crop_pillow(const Image& image, double x1, double y1, double x2, double y2);

enum class ResampleFilter { bilinear, bicubic };

// Pillow's Image.resize((width, height), filter) (Pillow 9.x, no reducing_gap): a separable
// convolution whose support grows with the downscale factor, coefficients in double converted to
// 22-bit fixed point, horizontal pass first, 8-bit rounding and clipping between the passes.
// A same-size resize returns a copy, as Pillow does; RGBA is resized premultiplied (RGBa), as
// Pillow does.
Image resize_pillow(const Image& image, int width, int height, ResampleFilter filter = ResampleFilter::bilinear);

// Writes atomically (a temporary file beside `path`, then rename). PNG by stb_image_write;
// JPEG by libjpeg-turbo as Pillow saves by default (quality 75, 4:2:0, baseline).
void write_png(const Image& image, const std::string& path);
void write_jpeg(const Image& image, const std::string& path, int quality = 75);
// The bytes write_jpeg writes.
std::vector<std::uint8_t> encode_jpeg(const Image& image, int quality = 75);

}  // namespace gler::io
