// io/image.h without Python: argument and file errors name what was expected, limits hold before
// allocating, encoders round-trip and leave no temporary files, and hostile EXIF never rotates.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/image.h"
#include "tests/io/image_testing.h"
#include "tests/support/tensors.h"

using namespace gler;
namespace fs = std::filesystem;

namespace {

// A fresh folder under the system temp dir, removed afterwards.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "gler_io_XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("Image is zero-filled and accepts only 1, 3 or 4 channels") {
  const io::Image image(5, 2, 3);
  CHECK(image.pixels.size() == 30);
  CHECK(std::all_of(image.pixels.begin(), image.pixels.end(), [](std::uint8_t p) { return p == 0; }));
  CHECK(contains(test::error_message([] { io::Image(2, 2, 2); }), "1, 3 or 4 channels, got 2"));
  CHECK(contains(test::error_message([] { io::Image(-1, 2, 1); }), "negative"));
}

TEST_CASE("decode_image names the source and what it expected") {
  CHECK(contains(test::error_message([] { io::decode_image({}, "a.jpg"); }), "a.jpg: empty file"));
  const std::vector<std::uint8_t> text = {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '!', '!', '!', '!',
                                          '!', '!', '!', '!', '!'};
  CHECK(contains(test::error_message([&] { io::decode_image(text, "b.png"); }), "b.png: not a JPEG, PNG, BMP, GIF or TGA"));
  const std::vector<std::uint8_t> soi = {0xFF, 0xD8, 0xFF, 0xE0};
  CHECK(contains(test::error_message([&] { io::decode_image(soi, "c.jpg"); }), "c.jpg: corrupt JPEG: "));
  CHECK(contains(test::error_message([] { io::read_image("/nonexistent/x.jpg"); }), "/nonexistent/x.jpg"));
}

TEST_CASE("max_pixels refuses a larger image before decoding it") {
  const std::string photo = test::source_path("data/photos/ipazc_ivan.jpg");  // 561 x 561
  io::DecodeOptions options;
  options.max_pixels = 561 * 561 - 1;
  CHECK(contains(test::error_message([&] { io::read_image(photo, options); }), "314721 pixels, more than the limit of 314720"));
  options.max_pixels = 561 * 561;
  CHECK(io::read_image(photo, options).width == 561);
}

TEST_CASE("crop_pillow and resize_pillow check their arguments") {
  const io::Image image = test::random_image(4, 3, 3, 1);
  CHECK(contains(test::error_message([&] { io::crop_pillow(image, 3, 0, 2, 1); }), "right 2 is less than left 3"));
  CHECK(contains(test::error_message([&] { io::crop_pillow(image, 0, 2, 1, 1); }), "lower 1 is less than upper 2"));
  CHECK(contains(test::error_message([&] { io::crop_pillow(image, 0, 0, NAN, 1); }), "not a finite number"));
  CHECK(contains(test::error_message([&] { io::resize_pillow(image, 0, 3); }), "must be > 0"));
  CHECK(io::resize_pillow(image, 4, 3).pixels == image.pixels);
}

TEST_CASE("write_png round-trips exactly; write_jpeg keeps the size; no temporary file stays behind") {
  TempDir dir;
  for (int channels : {1, 3, 4}) {
    CAPTURE(channels);
    const io::Image image = test::random_image(17, 9, channels, channels);
    const std::string png = (dir.path / (std::to_string(channels) + "x.png")).string();
    io::write_png(image, png);
    io::write_png(image, png);  // over an existing file
    test::check_same_image(io::read_image(png), image);
    if (channels == 4) {
      CHECK(contains(test::error_message([&] { io::write_jpeg(image, png + ".jpg"); }), "4-channel image as JPEG"));
      continue;
    }
    const std::string jpg = (dir.path / (std::to_string(channels) + "x.jpg")).string();
    io::write_jpeg(image, jpg);
    const io::Image back = io::read_image(jpg);
    CHECK(back.width == 17);
    CHECK(back.height == 9);
    CHECK(back.channels == channels);
  }
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir.path)) {
    CAPTURE(entry.path().string());
    CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);
    ++files;
  }
  CHECK(files == 5);
  CHECK(!test::error_message([&] { io::write_png(test::random_image(2, 2, 3, 1), (dir.path / "no/such/x.png").string()); }).empty());
  CHECK(contains(test::error_message([&] { io::write_jpeg(test::random_image(2, 2, 3, 1), (dir.path / "q.jpg").string(), 0); }),
                 "quality must be 1..100"));
}

TEST_CASE("malformed EXIF orientation data is ignored, never read out of bounds") {
  TempDir dir;
  const std::string path = (dir.path / "plain.jpg").string();
  io::write_jpeg(test::random_image(6, 4, 3, 2), path);
  const io::Image plain = io::read_image(path);
  std::vector<std::uint8_t> jpeg;
  {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    REQUIRE(f != nullptr);
    int c;
    while ((c = std::fgetc(f)) != EOF) jpeg.push_back(static_cast<std::uint8_t>(c));
    std::fclose(f);
  }
  // TIFF data for the APP1 segment: II, 42, IFD0 offset, then the IFD.
  const auto tiff = [](std::uint32_t ifd_offset, std::vector<std::uint8_t> ifd) {
    std::vector<std::uint8_t> t = {'I', 'I', 42, 0, static_cast<std::uint8_t>(ifd_offset), static_cast<std::uint8_t>(ifd_offset >> 8),
                                   static_cast<std::uint8_t>(ifd_offset >> 16), static_cast<std::uint8_t>(ifd_offset >> 24)};
    for (std::uint8_t b : ifd) t.push_back(b);
    return t;
  };
  // One IFD entry: tag 0x0112, type, count, value.
  const auto entry = [](std::uint8_t type, std::uint8_t count, std::uint8_t value) {
    return std::vector<std::uint8_t>{1, 0, 0x12, 0x01, type, 0, count, 0, 0, 0, value, 0, 0, 0};
  };
  const std::vector<std::vector<std::uint8_t>> hostile = {
      {},                                         // no TIFF data at all
      {'I', 'I', 42},                             // cut header
      {'X', 'X', 42, 0, 8, 0, 0, 0},              // unknown byte order
      tiff(0xFFFFFFF0u, {}),                      // IFD0 far outside
      tiff(8, {0xFF, 0xFF, 0x12, 0x01, 3}),       // 65535 entries, data cut in the first
      tiff(8, entry(2, 1, 3)),                    // ASCII, not SHORT
      tiff(8, entry(3, 2, 3)),                    // two values
      tiff(8, entry(3, 1, 9)),                    // out of 1..8
      tiff(8, entry(3, 1, 0)),
  };
  io::DecodeOptions rotate;
  rotate.exif_rotate = true;
  for (std::size_t i = 0; i < hostile.size(); ++i) {
    CAPTURE(i);
    // SOI, then an APP1 "Exif\0\0" segment with the hostile TIFF data, then the rest of the file.
    const std::size_t length = 2 + 6 + hostile[i].size();
    std::vector<std::uint8_t> file = {0xFF, 0xD8, 0xFF, 0xE1, static_cast<std::uint8_t>(length >> 8),
                                      static_cast<std::uint8_t>(length), 'E', 'x', 'i', 'f', 0, 0};
    std::copy(hostile[i].begin(), hostile[i].end(), std::back_inserter(file));
    std::copy(jpeg.begin() + 2, jpeg.end(), std::back_inserter(file));
    test::check_same_image(io::decode_image(file, "hostile.jpg", rotate), plain);
  }
}
