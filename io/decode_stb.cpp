// PNG, BMP, GIF and TGA decoding with stb_image. stb reads through callbacks rather than from
// memory so that truncation is seen: from memory, stb quietly reads zeros past the end (a cut
// BMP or GIF would decode with black rows), where Pillow raises "image file is truncated".
// A file must be complete up to the last byte stb reads (PNG: IEND's CRC; BMP: the last row's
// padding; GIF: the frame's block terminator), a little stricter than Pillow, which accepts files
// missing only those trailers.
#include <algorithm>
#include <cstring>
#include <memory>

#include "core/error.h"
#include "io/image_decoders.h"

// Only the formats we route to stb; the implementation is private to this file.
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_ONLY_GIF
#define STBI_ONLY_TGA
#define STBI_NO_STDIO
#define STBI_MAX_DIMENSIONS 65535
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>

namespace gler::io::detail {

namespace {

// stb_image's input: the bytes, and whether stb asked for any beyond them.
struct StbInput {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t pos = 0;
  bool read_past_end = false;
};

int stb_read(void* user, char* out, int n) {
  auto* in = static_cast<StbInput*>(user);
  if (in->pos == in->size) in->read_past_end = true;
  const std::size_t count = std::min(static_cast<std::size_t>(std::max(n, 0)), in->size - in->pos);
  std::memcpy(out, in->data + in->pos, count);
  in->pos += count;
  return static_cast<int>(count);
}

void stb_skip(void* user, int n) {
  auto* in = static_cast<StbInput*>(user);
  if (n < 0) {
    in->pos -= std::min(in->pos, static_cast<std::size_t>(-static_cast<long long>(n)));
    return;
  }
  if (static_cast<std::size_t>(n) > in->size - in->pos) in->read_past_end = true;
  in->pos += std::min(static_cast<std::size_t>(n), in->size - in->pos);
}

int stb_eof(void* user) {
  const auto* in = static_cast<const StbInput*>(user);
  return in->pos == in->size;
}

constexpr stbi_io_callbacks kCallbacks = {stb_read, stb_skip, stb_eof};

struct StbFree {
  void operator()(stbi_uc* p) const { stbi_image_free(p); }
};

bool starts_with(const std::uint8_t* data, std::size_t size, const char* magic) {
  const std::size_t n = std::strlen(magic);
  return size >= n && std::memcmp(data, magic, n) == 0;
}

constexpr std::uint32_t kBmpNoCompression = 0;  // BI_RGB

std::uint32_t read_le32(const std::uint8_t* p) {
  return p[0] | p[1] << 8 | p[2] << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

std::uint32_t read_le16(const std::uint8_t* p) { return p[0] | p[1] << 8; }

// stb reads the rows of uncompressed true-colour and grey TGAs without checking that they were
// all there, so their size is checked here: header, image ID, colour map, then the pixels.
bool tga_pixels_complete(const std::uint8_t* data, std::size_t size) {
  if (size < 18) return false;
  const int type = data[2];
  if (type != 2 && type != 3) return true;  // colour-mapped and RLE pixels are read checked
  const auto bytes_per = [](int bits) { return static_cast<std::uint64_t>((bits + 7) / 8); };
  const std::uint64_t colour_map = data[1] == 1 ? read_le16(data + 5) * bytes_per(data[7]) : 0;
  const std::uint64_t pixels = static_cast<std::uint64_t>(read_le16(data + 12)) * read_le16(data + 14) * bytes_per(data[16]);
  return 18 + data[0] + colour_map + pixels <= size;
}

bool fully_opaque(const stbi_uc* rgba, std::size_t pixels) {
  for (std::size_t i = 0; i < pixels; ++i)
    if (rgba[4 * i + 3] != 255) return false;
  return true;
}

}  // namespace

Image decode_stb(const std::uint8_t* data, std::size_t size, const std::string& source,
                 const DecodeOptions& options) {
  int width = 0, height = 0, file_channels = 0;
  {
    StbInput probe{data, size};
    GLER_CHECK(stbi_info_from_callbacks(&kCallbacks, &probe, &width, &height, &file_channels),
               source << ": not a JPEG, PNG, BMP, GIF or TGA image, or a corrupt one (stb_image: "
                      << stbi_failure_reason() << ")");
  }
  check_decoded_size(static_cast<std::uint64_t>(width), static_cast<std::uint64_t>(height), options, source);

  StbInput input{data, size};
  int channels = 0;
  std::unique_ptr<stbi_uc, StbFree> pixels(stbi_load_from_callbacks(&kCallbacks, &input, &width, &height, &channels, 0));
  GLER_CHECK(pixels, source << ": corrupt image (stb_image: " << stbi_failure_reason() << ")");
  const bool png = starts_with(data, size, "\x89PNG"), bmp = starts_with(data, size, "BM"),
             gif = starts_with(data, size, "GIF8");
  GLER_CHECK(!input.read_past_end && (png || bmp || gif || tga_pixels_complete(data, size)),
             source << ": image file is truncated (" << size << " bytes)");
  GLER_CHECK(channels >= 1 && channels <= 4, source << ": stb_image gave " << channels << " channels, expected 1 to 4");
  const std::size_t count = static_cast<std::size_t>(width) * height;

  // Grey+alpha (from LA, or grey with tRNS) has no Image layout of its own: it becomes RGBA, as
  // Pillow's convert('RGBA').
  if (channels == 2) {
    Image image(width, height, 4);
    for (std::size_t i = 0; i < count; ++i) {
      const stbi_uc* ga = pixels.get() + 2 * i;
      std::uint8_t* rgba = &image.pixels[4 * i];
      rgba[0] = rgba[1] = rgba[2] = ga[0];
      rgba[3] = ga[1];
    }
    return image;
  }

  // Where stb's layout differs from Pillow's mode: stb gives every GIF as RGBA, Pillow a palette
  // image (RGB when its transparency is unused); and stb reads the fourth byte of a 32-bit BI_RGB
  // BMP as alpha, which Pillow (and the format) treat as padding.
  const bool opaque_gif = gif && fully_opaque(pixels.get(), count);
  const bool padded_bmp = bmp && size >= 34 && read_le32(data + 30) == kBmpNoCompression;
  const int kept = channels == 4 && (opaque_gif || padded_bmp) ? 3 : channels;
  Image image(width, height, kept);
  if (kept == channels) {
    std::memcpy(image.pixels.data(), pixels.get(), image.pixels.size());
  } else {
    for (std::size_t i = 0; i < count; ++i) std::memcpy(&image.pixels[3 * i], pixels.get() + 4 * i, 3);
  }
  return image;
}

}  // namespace gler::io::detail
