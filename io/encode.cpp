// PNG (stb_image_write) and JPEG (libjpeg-turbo, configured as Pillow's JpegEncode.c) encoding,
// written atomically (io/files.h): a reader never sees a half-written file under the final name.
#include <cstdlib>

#include "core/error.h"
#include "io/files.h"
#include "io/image.h"
#include "io/jpeg_errors.h"

#define STBI_WRITE_NO_STDIO
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

namespace gler::io {

namespace {

void append_bytes(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<std::uint8_t>*>(context);
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  out->insert(out->end(), bytes, bytes + size);
}

// `what` names the output in messages: a path, or "JPEG" for an in-memory encode.
void check_writable(const Image& image, const std::string& what) {
  GLER_CHECK(!image.empty(), "cannot write an empty " << image.width << "x" << image.height << " image to '" << what << "'");
  GLER_CHECK(image.pixels.size() == static_cast<std::size_t>(image.width) * image.height * image.channels,
             "image for '" << what << "' has " << image.pixels.size() << " bytes, its size needs "
                           << static_cast<std::size_t>(image.width) * image.height * image.channels);
}

class JpegCompressor {
 public:
  JpegCompressor() { cinfo_.err = detail::install_jpeg_errors(errors_); }
  ~JpegCompressor() {
    jpeg_destroy_compress(&cinfo_);
    std::free(buffer_);  // allocated by jpeg_mem_dest
  }
  JpegCompressor(const JpegCompressor&) = delete;
  JpegCompressor& operator=(const JpegCompressor&) = delete;

  // False, with message() set, when libjpeg fails.
  bool compress(const Image& image, int quality) {
    if (setjmp(errors_.jump)) return false;
    jpeg_create_compress(&cinfo_);
    jpeg_mem_dest(&cinfo_, &buffer_, &size_);
    cinfo_.image_width = static_cast<JDIMENSION>(image.width);
    cinfo_.image_height = static_cast<JDIMENSION>(image.height);
    cinfo_.input_components = image.channels;
    cinfo_.in_color_space = image.channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    // Pillow's defaults: libjpeg's (JFIF header, 4:2:0, Huffman tables not optimised, baseline),
    // with the quality given.
    jpeg_set_defaults(&cinfo_);
    jpeg_set_quality(&cinfo_, quality, TRUE);
    jpeg_start_compress(&cinfo_, TRUE);
    while (cinfo_.next_scanline < cinfo_.image_height) {
      JSAMPROW row = const_cast<std::uint8_t*>(image.row(static_cast<int>(cinfo_.next_scanline)));
      jpeg_write_scanlines(&cinfo_, &row, 1);
    }
    jpeg_finish_compress(&cinfo_);
    return true;
  }

  const std::uint8_t* data() const { return buffer_; }
  std::size_t size() const { return size_; }
  const char* message() const { return errors_.message; }

 private:
  jpeg_compress_struct cinfo_{};
  detail::JpegErrors errors_;
  unsigned char* buffer_ = nullptr;
  unsigned long size_ = 0;
};

}  // namespace

void write_png(const Image& image, const std::string& path) {
  check_writable(image, path);
  std::vector<std::uint8_t> png;
  const int ok = stbi_write_png_to_func(append_bytes, &png, image.width, image.height, image.channels,
                                        image.pixels.data(), image.width * image.channels);
  GLER_CHECK(ok != 0, "cannot encode a " << image.width << "x" << image.height << "x" << image.channels << " PNG for '"
                                        << path << "'");
  write_bytes_atomic(path, png);
}

std::vector<std::uint8_t> encode_jpeg(const Image& image, int quality) {
  check_writable(image, "JPEG");
  GLER_CHECK(image.channels == 1 || image.channels == 3,
             "cannot encode a " << image.channels
                                << "-channel image as JPEG (Pillow neither): expected 1 (L) or 3 (RGB), convert with to_rgb");
  GLER_CHECK(quality >= 1 && quality <= 100, "JPEG quality must be 1..100, got " << quality);
  JpegCompressor jpeg;
  GLER_CHECK(jpeg.compress(image, quality), "cannot encode JPEG: " << jpeg.message());
  return {jpeg.data(), jpeg.data() + jpeg.size()};
}

void write_jpeg(const Image& image, const std::string& path, int quality) {
  check_writable(image, path);
  std::vector<std::uint8_t> bytes;
  try {
    bytes = encode_jpeg(image, quality);
  } catch (const Error& e) {
    throw Error("'" + path + "': " + e.what());
  }
  write_bytes_atomic(path, bytes);
}

}  // namespace gler::io
