// JPEG decoding with libjpeg-turbo, set up as Pillow's JpegDecode.c sets it up: libjpeg's
// defaults (ISLOW DCT, fancy upsampling), RGB out for 3 components, grey stays grey, and 4
// components (CMYK, or YCCK converted by libjpeg) out as CMYK, then made RGB as Pillow does.
#include <cstring>

#include "core/error.h"
#include "io/image_decoders.h"
#include "io/jpeg_errors.h"

namespace gler::io::detail {

namespace {

class JpegDecompressor {
 public:
  JpegDecompressor() { cinfo_.err = install_jpeg_errors(errors_); }
  ~JpegDecompressor() { jpeg_destroy_decompress(&cinfo_); }  // safe on a struct never created
  JpegDecompressor(const JpegDecompressor&) = delete;
  JpegDecompressor& operator=(const JpegDecompressor&) = delete;

  // The steps return false, with message() set, when libjpeg fails.
  bool read_header(const std::uint8_t* data, std::size_t size) {
    if (setjmp(errors_.jump)) return false;
    jpeg_create_decompress(&cinfo_);
    jpeg_mem_src(&cinfo_, data, static_cast<unsigned long>(size));
    jpeg_save_markers(&cinfo_, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&cinfo_, TRUE);
    return true;
  }

  // `out` must be image_width x image_height with output_channels().
  bool read_pixels(Image& out) {
    if (setjmp(errors_.jump)) return false;
    cinfo_.out_color_space = cinfo_.num_components == 1 ? JCS_GRAYSCALE : cinfo_.num_components == 3 ? JCS_RGB : JCS_CMYK;
    jpeg_start_decompress(&cinfo_);
    if (static_cast<int>(cinfo_.output_width) != out.width || static_cast<int>(cinfo_.output_height) != out.height ||
        cinfo_.output_components != out.channels) {
      std::snprintf(errors_.message, sizeof errors_.message, "libjpeg's output is not the size of its header");
      return false;
    }
    while (cinfo_.output_scanline < cinfo_.output_height) {
      JSAMPROW row = out.row(static_cast<int>(cinfo_.output_scanline));
      jpeg_read_scanlines(&cinfo_, &row, 1);
    }
    // Reads up to EOI, so that a file cut anywhere before it counts as truncated, as in Pillow.
    jpeg_finish_decompress(&cinfo_);
    return true;
  }

  int output_channels() const { return cinfo_.num_components == 4 ? 4 : cinfo_.num_components; }

  // The TIFF data of the first APP1 that starts with "Exif\0\0" (Pillow keeps the first too).
  std::vector<std::uint8_t> exif() const {
    static const std::uint8_t kExif[6] = {'E', 'x', 'i', 'f', 0, 0};
    for (jpeg_saved_marker_ptr m = cinfo_.marker_list; m != nullptr; m = m->next)
      if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 && std::memcmp(m->data, kExif, 6) == 0)
        return std::vector<std::uint8_t>(m->data + 6, m->data + m->data_length);
    return {};
  }

  const jpeg_decompress_struct& info() const { return cinfo_; }
  const char* message() const { return errors_.message; }

 private:
  jpeg_decompress_struct cinfo_{};
  JpegErrors errors_;
};

// Pillow's JPEG plugin reads 4-component JPEGs as "CMYK;I" (Adobe's inverted CMYK, un-inverted on
// unpacking), and convert('RGB') computes, with MULDIV255 rounding: channel = nk - c * nk / 255,
// nk = 255 - k. With libjpeg's (inverted) samples c' = 255 - c, k' = 255 - k, so nk = k'.
Image cmyk_inverted_to_rgb(const Image& cmyk) {
  Image rgb(cmyk.width, cmyk.height, 3);
  const std::size_t n = static_cast<std::size_t>(cmyk.width) * cmyk.height;
  const std::uint8_t* in = cmyk.pixels.data();
  std::uint8_t* out = rgb.pixels.data();
  for (std::size_t i = 0; i < n; ++i, in += 4, out += 3) {
    const int nk = in[3];
    for (int c = 0; c < 3; ++c) {
      const int t = (255 - in[c]) * nk + 128;
      const int v = nk - (((t >> 8) + t) >> 8);
      out[c] = static_cast<std::uint8_t>(v < 0 ? 0 : v);
    }
  }
  return rgb;
}

}  // namespace

DecodedJpeg decode_jpeg(const std::uint8_t* data, std::size_t size, const std::string& source,
                        const DecodeOptions& options) {
  JpegDecompressor jpeg;
  GLER_CHECK(jpeg.read_header(data, size), source << ": corrupt JPEG: " << jpeg.message());
  const jpeg_decompress_struct& info = jpeg.info();
  GLER_CHECK(info.num_components == 1 || info.num_components == 3 || info.num_components == 4,
             source << ": unsupported JPEG with " << info.num_components << " components (expected 1, 3 or 4)");
  check_decoded_size(info.image_width, info.image_height, options, source);
  DecodedJpeg out;
  out.exif = jpeg.exif();
  out.image = Image(static_cast<int>(info.image_width), static_cast<int>(info.image_height), jpeg.output_channels());
  GLER_CHECK(jpeg.read_pixels(out.image), source << ": corrupt JPEG: " << jpeg.message());
  if (out.image.channels == 4) out.image = cmyk_inverted_to_rgb(out.image);
  return out;
}

}  // namespace gler::io::detail
