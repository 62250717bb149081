// write_jpeg and write_png against Pillow 9.4: our JPEG is byte for byte the file Pillow's
// img.save(path, quality=q) writes (same libjpeg-turbo, same settings), and our PNG reads back in
// Pillow as the image written.
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "io/image.h"
#include "tests/io/image_testing.h"
#include "tests/support/torch_ref.h"

using namespace gler;

namespace {

std::vector<std::uint8_t> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A smooth gradient plus noise: JPEG-like content with every DCT path in use.
io::Image test_image(int width, int height, int channels, std::uint32_t seed) {
  io::Image image(width, height, channels);
  std::uint32_t state = seed;
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < channels; ++c) {
        state = state * 1664525u + 1013904223u;
        image.row(y)[x * channels + c] = static_cast<std::uint8_t>((x * 7 + y * 3 + c * 50 + (state >> 28)) & 0xFF);
      }
  return image;
}

}  // namespace

TEST_CASE("write_jpeg writes the bytes Pillow's save writes") {
  struct Case {
    io::Image image;
    int quality;
  };
  const std::vector<Case> cases = {{test_image(37, 29, 3, 1), 75}, {test_image(37, 29, 1, 2), 75},
                                   {test_image(16, 16, 3, 3), 90}, {test_image(1, 1, 3, 4), 75},
                                   {test_image(101, 3, 3, 5), 30}};
  test::TorchRef ref;
  std::string code = "from PIL import Image\nqualities = [";
  for (std::size_t i = 0; i < cases.size(); ++i) {
    ref.put("in" + std::to_string(i), test::image_tensor(cases[i].image));
    io::write_jpeg(cases[i].image, ref.dir() + "/ours" + std::to_string(i) + ".jpg", cases[i].quality);
    code += std::to_string(cases[i].quality) + ", ";
  }
  code += R"PY(]
for i, q in enumerate(qualities):
    a = load(f'in{i}').numpy()
    im = Image.fromarray(a[:, :, 0] if a.shape[2] == 1 else a)
    im.save(os.path.join(_DIR, f'pillow{i}.jpg'), quality=q)
    d = np.asarray(Image.open(os.path.join(_DIR, f'ours{i}.jpg')))
    save(f'decoded{i}', d.reshape(d.shape[0], d.shape[1], -1))
)PY";
  ref.run(code);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(i);
    const std::vector<std::uint8_t> ours = file_bytes(ref.dir() + "/ours" + std::to_string(i) + ".jpg");
    const std::vector<std::uint8_t> pillow = file_bytes(ref.dir() + "/pillow" + std::to_string(i) + ".jpg");
    REQUIRE(!pillow.empty());
    CHECK(ours == pillow);
    // And Pillow reads our file as we do.
    test::check_same_image(io::read_image(ref.dir() + "/ours" + std::to_string(i) + ".jpg"),
                           test::tensor_image(ref.get("decoded" + std::to_string(i))));
  }
}

TEST_CASE("write_png round-trips through Pillow and read_image") {
  const std::vector<io::Image> images = {test_image(19, 11, 1, 6), test_image(19, 11, 3, 7), test_image(19, 11, 4, 8),
                                         test_image(1, 1, 3, 9)};
  test::TorchRef ref;
  for (std::size_t i = 0; i < images.size(); ++i) io::write_png(images[i], ref.dir() + "/ours" + std::to_string(i) + ".png");
  ref.run(R"PY(
from PIL import Image
for i in range(4):
    im = Image.open(os.path.join(_DIR, f'ours{i}.png'))
    a = np.asarray(im)
    save(f'decoded{i}', a.reshape(a.shape[0], a.shape[1], len(im.getbands())))
)PY");
  for (std::size_t i = 0; i < images.size(); ++i) {
    CAPTURE(images[i].channels);
    test::check_same_image(test::tensor_image(ref.get("decoded" + std::to_string(i))), images[i]);
    test::check_same_image(io::read_image(ref.dir() + "/ours" + std::to_string(i) + ".png"), images[i]);
  }
}
