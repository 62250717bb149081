// Internal to gler_io: the decoders behind decode_image (io/image.cpp) and the pieces they share.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "io/image.h"

namespace gler::io::detail {

// Throws unless width x height fits the limits of `options` (checked before allocating pixels).
void check_decoded_size(std::uint64_t width, std::uint64_t height, const DecodeOptions& options,
                        const std::string& source);

struct DecodedJpeg {
  Image image;
  std::vector<std::uint8_t> exif;  // TIFF data of the first "Exif\0\0" APP1 segment; empty if none
};
DecodedJpeg decode_jpeg(const std::uint8_t* data, std::size_t size, const std::string& source,
                        const DecodeOptions& options);

// PNG, BMP, GIF (first frame) and TGA.
Image decode_stb(const std::uint8_t* data, std::size_t size, const std::string& source,
                 const DecodeOptions& options);

// The Orientation tag (0x0112) of IFD0 in Exif TIFF data, 1 when absent, malformed or out of 1..8.
int exif_orientation(const std::vector<std::uint8_t>& tiff);
// Applies an orientation as PIL.ImageOps.exif_transpose does (2..8 flip and/or rotate).
Image apply_orientation(const Image& image, int orientation);

}  // namespace gler::io::detail
