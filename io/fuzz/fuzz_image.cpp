// libFuzzer target: decode_image on arbitrary bytes (JPEG by libjpeg-turbo, PNG/BMP/GIF/TGA by
// stb_image, EXIF orientation applied). A clean image or a gler::Error are the only outcomes.
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "io/image.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::uint8_t> bytes(data, data + size);
  gler::io::DecodeOptions options;
  options.exif_rotate = true;
  options.max_pixels = 1 << 22;  // keeps each input fast and within the fuzzer's memory limit
  try {
    const gler::io::Image image = gler::io::decode_image(bytes, "fuzz", options);
    const std::size_t expected = static_cast<std::size_t>(image.width) * image.height * image.channels;
    if (image.empty() || image.pixels.size() != expected) __builtin_trap();
  } catch (const gler::Error&) {
  }
  return 0;
}
