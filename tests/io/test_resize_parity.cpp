// resize_pillow against Pillow 9.4's Image.resize, exactly (max abs diff 0): the MTCNN pyramid
// level the seed dumped, and random L/RGB/RGBA images up- and downscaled, BILINEAR and BICUBIC.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "io/image.h"
#include "tests/io/image_testing.h"
#include "tests/support/torch_ref.h"

using namespace gler;

namespace {

}  // namespace

TEST_CASE("the seed's MTCNN pyramid inputs are Pillow BILINEAR resizes, reproduced exactly") {
  struct Level {
    std::string photo, dump;
    int width, height;
    bool bundled;
  };
  const std::vector<Level> levels = {
      {"data/photos/ipazc_ivan.jpg", "data/reference/mtcnn/net_dumps/ipazc_ivan_s3_input_rgb_uint8.npy", 119, 119, true},
      {"data/photos/dlib_2007_007763.jpg", "data/reference/mtcnn/net_dumps/dlib_2007_007763_s0_input_rgb_uint8.npy", 300, 225,
       false},
  };
  for (const Level& level : levels) {
    const std::string photo = level.bundled ? test::source_path(level.photo) : test::shared_path(level.photo);
    const std::string dump = level.bundled ? test::source_path(level.dump) : test::shared_path(level.dump);
    if (!level.bundled && !(std::filesystem::exists(photo) && std::filesystem::exists(dump))) {
      MESSAGE("skipped: " << (std::filesystem::exists(photo) ? dump : photo) << " not found");
      continue;
    }
    CAPTURE(photo);
    test::TorchRef ref;
    ref.run("save('dump', np.load('" + dump + "'))\n");
    const io::Image resized = io::resize_pillow(io::read_image(photo), level.width, level.height);
    test::check_same_image(resized, test::tensor_image(ref.get("dump")));
  }
}

TEST_CASE("random images resized as Pillow resizes them, BILINEAR and BICUBIC, L/RGB/RGBA") {
  struct Size {
    int w, h;
  };
  const std::vector<std::pair<Size, Size>> sizes = {
      {{37, 53}, {24, 24}}, {{5, 7}, {48, 48}},    {{300, 200}, {119, 80}}, {{1, 1}, {3, 3}},
      {{200, 1}, {24, 24}}, {{200, 1}, {7, 1}},    {{1, 200}, {5, 9}},      {{64, 48}, {64, 20}},
      {{64, 48}, {20, 48}}, {{24, 24}, {48, 48}},  {{561, 561}, {12, 12}},  {{13, 11}, {100, 3}},
      {{48, 48}, {24, 24}}, {{17, 13}, {17, 13}},  {{97, 61}, {61, 97}},    {{2, 3}, {1, 1}},
  };
  test::TorchRef ref;
  std::vector<io::Image> inputs;
  for (std::size_t i = 0; i < sizes.size(); ++i)
    for (int channels : {1, 3, 4}) {
      const io::Image image = test::random_image(sizes[i].first.w, sizes[i].first.h, channels, 100 * i + channels);
      ref.put("in" + std::to_string(inputs.size()), test::image_tensor(image));
      inputs.push_back(image);
    }
  std::string code = "from PIL import Image\nsizes = [";
  for (const auto& [from, to] : sizes) code += "(" + std::to_string(to.w) + ", " + std::to_string(to.h) + "), ";
  code += R"PY(]
modes = {1: 'L', 3: 'RGB', 4: 'RGBA'}
filters = {'bilinear': Image.Resampling.BILINEAR, 'bicubic': Image.Resampling.BICUBIC}
for i in range(len(sizes) * 3):
    a = load(f'in{i}').numpy()
    im = Image.fromarray(a[:, :, 0] if a.shape[2] == 1 else a, modes[a.shape[2]])
    for name, f in filters.items():
        out = np.asarray(im.resize(sizes[i // 3], f))
        save(f'out{i}.{name}', out.reshape(out.shape[0], out.shape[1], -1))
)PY";
  ref.run(code);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const auto& to = sizes[i / 3].second;
    for (const auto& [name, filter] : {std::pair{"bilinear", io::ResampleFilter::bilinear},
                                       std::pair{"bicubic", io::ResampleFilter::bicubic}}) {
      CAPTURE(i);
      CAPTURE(inputs[i].width);
      CAPTURE(inputs[i].height);
      CAPTURE(inputs[i].channels);
      CAPTURE(to.w);
      CAPTURE(to.h);
      CAPTURE(std::string(name));
      test::check_same_image(io::resize_pillow(inputs[i], to.w, to.h, filter),
                             test::tensor_image(ref.get("out" + std::to_string(i) + "." + name)));
    }
  }
}
