// Truncated and corrupted files. Every prefix of small JPEG, PNG, BMP, GIF and TGA files written
// by Pillow is refused with gler::Error wherever Pillow's Image.open(...).load() raises; JPEGs
// exactly where Pillow raises, the others also when only a trailer is missing, which Pillow
// accepts (see io/decode_stb.cpp). Files with flipped bytes decode or throw gler::Error.
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/image.h"
#include "tests/io/image_testing.h"
#include "tests/support/torch_ref.h"

using namespace gler;

namespace {

std::vector<std::uint8_t> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// 1 when decode_image accepts the bytes, 0 when it throws gler::Error (anything else escapes).
std::uint8_t decodes(const std::vector<std::uint8_t>& bytes, bool exif_rotate = false) {
  io::DecodeOptions options;
  options.exif_rotate = exif_rotate;
  try {
    io::decode_image(bytes, "test", options);
    return 1;
  } catch (const Error&) {
    return 0;
  }
}

// Small files of every kind, written by Pillow into the reference folder as `writers`.
const char* kWriters = R"PY(
import io
from PIL import Image
rng = np.random.default_rng(11)
rgb = Image.fromarray(rng.integers(0, 256, (9, 14, 3), dtype=np.uint8))
exif = Image.Exif()
exif[0x0112] = 6
writers = {
    'rgb.jpg': lambda f: rgb.save(f),
    'progressive.jpg': lambda f: rgb.save(f, progressive=True),
    'grey.jpg': lambda f: rgb.convert('L').save(f),
    'exif.jpg': lambda f: rgb.save(f, exif=exif.tobytes()),
    'rgb.png': lambda f: rgb.save(f),
    'palette.png': lambda f: rgb.quantize(16).save(f),
    'rgb.bmp': lambda f: rgb.save(f),
    'palette.bmp': lambda f: rgb.quantize(16).save(f),
    'palette.gif': lambda f: rgb.quantize(16).save(f),
    'rgb.tga': lambda f: rgb.save(f),
    'rgb_rle.tga': lambda f: rgb.save(f, compression='tga_rle'),
}
)PY";

const std::vector<std::string> kNames = {"rgb.jpg", "progressive.jpg", "grey.jpg", "exif.jpg", "rgb.png",
                                         "palette.png", "rgb.bmp", "palette.bmp", "palette.gif", "rgb.tga",
                                         "rgb_rle.tga"};

}  // namespace

TEST_CASE("every prefix of a file is refused where Pillow refuses it") {
  test::TorchRef ref;
  ref.run(std::string(kWriters) + R"PY(
for name, write in writers.items():
    f = os.path.join(_DIR, name)
    write(f)
    data = open(f, 'rb').read()
    ok = []
    for n in range(len(data) + 1):
        try:
            Image.open(io.BytesIO(data[:n])).load()
            ok.append(1)
        except Exception:
            ok.append(0)
    save(name, np.array(ok, dtype=np.uint8))
)PY");
  for (const std::string& name : kNames) {
    CAPTURE(name);
    const std::vector<std::uint8_t> bytes = file_bytes(ref.dir() + "/" + name);
    const std::vector<std::uint8_t> pillow = ref.get(name).to_vector<std::uint8_t>();
    REQUIRE(pillow.size() == bytes.size() + 1);
    REQUIRE(pillow.back() == 1);
    std::vector<std::uint8_t> ours;
    for (std::size_t n = 0; n <= bytes.size(); ++n)
      ours.push_back(decodes(std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + n)));
    // The shortest prefix we accept, and the longest Pillow refuses.
    std::size_t ours_first = bytes.size(), pillow_last = 0;
    for (std::size_t n = bytes.size() + 1; n-- > 0;)
      if (ours[n]) ours_first = n;
    for (std::size_t n = 0; n <= bytes.size(); ++n)
      if (!pillow[n]) pillow_last = n;
    CAPTURE(bytes.size());
    CAPTURE(ours_first);
    CAPTURE(pillow_last);
    CHECK(ours.back() == 1);
    if (name.ends_with(".jpg")) {
      CHECK(ours == pillow);
    } else {
      for (std::size_t n = 0; n <= bytes.size(); ++n) CHECK((!ours[n] || pillow[n]));
    }
  }
}

TEST_CASE("files with a byte flipped or cleared decode or throw gler::Error") {
  test::TorchRef ref;
  ref.run(std::string(kWriters) + R"PY(
for name, write in writers.items():
    write(os.path.join(_DIR, name))
)PY");
  for (const std::string& name : kNames) {
    CAPTURE(name);
    const std::vector<std::uint8_t> bytes = file_bytes(ref.dir() + "/" + name);
    REQUIRE(decodes(bytes) == 1);
    std::size_t refused = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i)
      for (std::uint8_t value : {static_cast<std::uint8_t>(bytes[i] ^ 0xFF), std::uint8_t{0}}) {
        std::vector<std::uint8_t> corrupt = bytes;
        corrupt[i] = value;
        refused += !decodes(corrupt, true);
      }
    CAPTURE(refused);
    CHECK(refused > 0);  // the headers at least are checked
  }
}
