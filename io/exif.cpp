// The Exif Orientation tag and PIL.ImageOps.exif_transpose. The Exif data comes from the file, so
// every offset is checked against its size; anything malformed reads as "no orientation".
#include <optional>

#include "io/image_decoders.h"

namespace gler::io::detail {

namespace {

// A bounds-checked view of TIFF data in its byte order ("II" little, "MM" big endian).
class TiffReader {
 public:
  TiffReader(const std::vector<std::uint8_t>& bytes, bool little_endian) : b_(bytes), little_(little_endian) {}

  std::optional<std::uint32_t> u16(std::size_t at) const {
    if (at > b_.size() || b_.size() - at < 2) return std::nullopt;
    return static_cast<std::uint32_t>(little_ ? b_[at] | b_[at + 1] << 8 : b_[at] << 8 | b_[at + 1]);
  }
  std::optional<std::uint32_t> u32(std::size_t at) const {
    const auto lo = u16(at + (little_ ? 0 : 2)), hi = u16(at + (little_ ? 2 : 0));
    if (!lo || !hi) return std::nullopt;
    return *hi << 16 | *lo;
  }

 private:
  const std::vector<std::uint8_t>& b_;
  bool little_;
};

constexpr std::uint32_t kOrientationTag = 0x0112;
constexpr std::uint32_t kTypeShort = 3, kTypeLong = 4;

}  // namespace

int exif_orientation(const std::vector<std::uint8_t>& tiff) {
  if (tiff.size() < 8) return 1;
  const bool little = tiff[0] == 'I' && tiff[1] == 'I';
  if (!little && !(tiff[0] == 'M' && tiff[1] == 'M')) return 1;
  const TiffReader r(tiff, little);
  const auto magic = r.u16(2), ifd0 = r.u32(4);
  if (!magic || *magic != 42 || !ifd0) return 1;
  const auto count = r.u16(*ifd0);
  if (!count) return 1;
  // Each IFD entry is 12 bytes: tag, type, count, then the value itself when it fits in 4 bytes.
  for (std::uint32_t i = 0; i < *count; ++i) {
    const std::size_t entry = static_cast<std::size_t>(*ifd0) + 2 + 12 * static_cast<std::size_t>(i);
    const auto tag = r.u16(entry), type = r.u16(entry + 2), n = r.u32(entry + 4);
    if (!tag || !type || !n) return 1;
    if (*tag != kOrientationTag) continue;
    if (*n != 1) return 1;
    const auto value = *type == kTypeShort ? r.u16(entry + 8) : *type == kTypeLong ? r.u32(entry + 8) : std::nullopt;
    return value && *value >= 1 && *value <= 8 ? static_cast<int>(*value) : 1;
  }
  return 1;
}

Image apply_orientation(const Image& image, int orientation) {
  if (orientation < 2 || orientation > 8) return image;
  const int w = image.width, h = image.height, c = image.channels;
  // 5 to 8 swap the axes (PIL: TRANSPOSE, ROTATE_270, TRANSVERSE, ROTATE_90).
  const bool swap = orientation >= 5;
  Image out(swap ? h : w, swap ? w : h, c);
  for (int y = 0; y < out.height; ++y) {
    std::uint8_t* dst = out.row(y);
    for (int x = 0; x < out.width; ++x, dst += c) {
      int sx = x, sy = y;
      switch (orientation) {
        case 2: sx = w - 1 - x; break;                      // FLIP_LEFT_RIGHT
        case 3: sx = w - 1 - x; sy = h - 1 - y; break;      // ROTATE_180
        case 4: sy = h - 1 - y; break;                      // FLIP_TOP_BOTTOM
        case 5: sx = y; sy = x; break;                      // TRANSPOSE
        case 6: sx = y; sy = h - 1 - x; break;              // ROTATE_270 (90 clockwise)
        case 7: sx = w - 1 - y; sy = h - 1 - x; break;      // TRANSVERSE
        case 8: sx = w - 1 - y; sy = x; break;              // ROTATE_90 (counter-clockwise)
      }
      const std::uint8_t* src = image.row(sy) + static_cast<std::size_t>(sx) * c;
      for (int k = 0; k < c; ++k) dst[k] = src[k];
    }
  }
  return out;
}

}  // namespace gler::io::detail
