// to_rgb and crop_pillow against Pillow 9.4: convert('RGB') of L/RGB/RGBA, and crop with float
// boxes reaching outside the image on every side and coordinates at .5 (Python rounds half to even).
#include <doctest/doctest.h>

#include <array>
#include <string>
#include <vector>

#include "io/image.h"
#include "tests/io/image_testing.h"
#include "tests/support/torch_ref.h"

using namespace gler;

namespace {

const char* kFromArray = R"PY(
from PIL import Image
def pil(name):
    a = load(name).numpy()
    return Image.fromarray(a[:, :, 0] if a.shape[2] == 1 else a, {1: 'L', 3: 'RGB', 4: 'RGBA'}[a.shape[2]])
def save_image(name, im):
    a = np.asarray(im)
    save(name, a.reshape(a.shape[0], a.shape[1], len(im.getbands())))
)PY";

}  // namespace

TEST_CASE("to_rgb is Pillow's convert('RGB') for L, RGB and RGBA") {
  test::TorchRef ref;
  const std::vector<io::Image> images = {test::random_image(13, 7, 1, 1), test::random_image(13, 7, 3, 2), test::random_image(13, 7, 4, 3)};
  for (std::size_t i = 0; i < images.size(); ++i) ref.put("in" + std::to_string(i), test::image_tensor(images[i]));
  ref.run(std::string(kFromArray) + "for i in range(3):\n    save_image(f'out{i}', pil(f'in{i}').convert('RGB'))\n");
  for (std::size_t i = 0; i < images.size(); ++i) {
    CAPTURE(images[i].channels);
    test::check_same_image(io::to_rgb(images[i]), test::tensor_image(ref.get("out" + std::to_string(i))));
  }
}

TEST_CASE("crop_pillow is Pillow's crop with float boxes, inside and outside the image") {
  const std::vector<std::array<double, 4>> boxes = {
      {0, 0, 23, 17},        {2, 3, 10, 9},          {-5, -4, 8, 6},         {15, 10, 30, 25},
      {-3, 5, 26, 9},        {4, -6, 9, 20},         {-10, -10, 40, 40},     {0.5, 1.5, 2.5, 3.5},
      {-0.5, -1.5, 10.5, 11.5}, {2.4999, 2.5001, 7.5, 8.5}, {30, 30, 35, 33}, {-9, -9, -2, -3},
      {5, 5, 5, 9},          {3.2, 4.7, 3.4, 4.9},   {22.5, 16.5, 23.5, 17.5}, {-1.5, 0, 0.5, 17},
  };
  const std::vector<io::Image> images = {test::random_image(23, 17, 1, 4), test::random_image(23, 17, 3, 5), test::random_image(23, 17, 4, 6)};
  test::TorchRef ref;
  for (std::size_t i = 0; i < images.size(); ++i) ref.put("in" + std::to_string(i), test::image_tensor(images[i]));
  std::string code = std::string(kFromArray) + "boxes = [";
  for (const auto& b : boxes) code += "(" + std::to_string(b[0]) + ", " + std::to_string(b[1]) + ", " + std::to_string(b[2]) + ", " + std::to_string(b[3]) + "), ";
  code += "]\nfor i in range(3):\n    for j, box in enumerate(boxes):\n        save_image(f'out{i}.{j}', pil(f'in{i}').crop(box))\n";
  ref.run(code);
  for (std::size_t i = 0; i < images.size(); ++i)
    for (std::size_t j = 0; j < boxes.size(); ++j) {
      const auto& b = boxes[j];
      CAPTURE(images[i].channels);
      CAPTURE(j);
      test::check_same_image(io::crop_pillow(images[i], b[0], b[1], b[2], b[3]),
                             test::tensor_image(ref.get("out" + std::to_string(i) + "." + std::to_string(j))));
    }
}
