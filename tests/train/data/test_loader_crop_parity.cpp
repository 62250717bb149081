// The seed's global training augmentation against torchvision on PIL: for fixed crop boxes,
// crop + Pillow BILINEAR resize to 224x224 (+ hflip) + ToTensor + Normalize equals
// torchvision.transforms.functional.resized_crop (+ hflip) within 1e-6, for RGB and greyscale
// photos (seed mode: torchvision 0.2.1's Normalize of one channel with the red constants); and the
// validation transform Resize(256) + CenterCrop(224) equals torchvision's.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "io/preprocess.h"
#include "tests/support/torch_ref.h"
#include "tests/train/data/tiny_emotiw.h"
#include "train/data/augment.h"

using namespace gler;
using namespace gler::train;

namespace {

struct Case {
  CropBox box;
  bool flip;
};

// Whole image, an interior box (downscale), a thin box (upscale in one direction), corners.
std::vector<Case> cases_for(int width, int height) {
  return {{{0, 0, height, width}, false},
          {{5, 7, height / 2, width / 3}, true},
          {{height - 40, 3, 40, 9}, false},
          {{0, width - 30, 30, 30}, true},
          {{11, 2, height - 20, width - 5}, false},
          {{(height - 1) / 2, (width - 1) / 2, 1, 1}, true}};
}

Tensor image_tensor(const io::Image& image) {
  Tensor t = Tensor::empty({image.height, image.width, image.channels}, DType::u8);
  std::memcpy(t.raw(), image.pixels.data(), image.pixels.size());
  return t;
}

}  // namespace

TEST_CASE("crop + resize + flip equals torchvision's resized_crop + hflip on PIL") {
  if (!test::python_has("torch, torchvision, PIL")) {
    std::printf("skipped: torchvision not found (%s cannot import torch, torchvision, PIL)\n", GLER_PYTHON);
    std::exit(77);
  }
  const io::Image rgb = test::pattern_image(97, 73, 3, 11), grey = test::pattern_image(61, 80, 1, 12);
  struct Run {
    const io::Image* image;
    bool seed_compat;
    const char* name;
  };
  const std::vector<Run> runs = {{&rgb, false, "rgb"}, {&rgb, true, "rgb_seed"}, {&grey, false, "grey"}, {&grey, true, "grey_seed"}};
  test::TorchRef ref;
  ref.put("rgb", image_tensor(rgb));
  ref.put("grey", image_tensor(grey));
  for (const Run& r : runs) {
    std::vector<std::int64_t> boxes;
    for (const Case& c : cases_for(r.image->width, r.image->height))
      boxes.insert(boxes.end(), {c.box.top, c.box.left, c.box.height, c.box.width, c.flip ? 1 : 0});
    ref.put(std::string("boxes_") + r.name, Tensor::from_vector(boxes, Shape({static_cast<std::int64_t>(boxes.size() / 5), 5})));
  }
  ref.run(R"PY(
from PIL import Image
import torchvision.transforms.functional as F
from torchvision.transforms import InterpolationMode
mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
for name, image, seed in [('rgb', 'rgb', False), ('rgb_seed', 'rgb', True), ('grey', 'grey', False), ('grey_seed', 'grey', True)]:
    a = load(image).numpy()
    img = Image.fromarray(a[:, :, 0], 'L') if a.shape[2] == 1 else Image.fromarray(a, 'RGB')
    if img.mode == 'L' and not seed:
        img = img.convert('RGB')
    outs = []
    for top, left, h, w, flip in load('boxes_' + name).tolist():
        c = F.resized_crop(img, top, left, h, w, [224, 224], InterpolationMode.BILINEAR)
        if flip:
            c = F.hflip(c)
        t = F.to_tensor(c)
        if t.shape[0] == 1:
            # torchvision 0.2.1 zips channels with the constants: the red ones only, then 3 copies.
            t = ((t - torch.tensor(mean[0])) / torch.tensor(std[0])).repeat(3, 1, 1)
        else:
            t = F.normalize(t, mean, std)
        outs.append(t)
    save('out_' + name, torch.stack(outs))
)PY");
  for (const Run& r : runs) {
    CAPTURE(r.name);
    const std::vector<float> expected = ref.get(std::string("out_") + r.name).to_vector<float>();
    const std::vector<Case> cases = cases_for(r.image->width, r.image->height);
    const std::size_t values = 3 * 224 * 224;
    REQUIRE(expected.size() == cases.size() * values);
    for (std::size_t k = 0; k < cases.size(); ++k) {
      CAPTURE(k);
      std::vector<float> ours(values);
      augmented_global_tensor(*r.image, {cases[k].box, cases[k].flip}, r.seed_compat, ours.data());
      double worst = 0;
      for (std::size_t i = 0; i < values; ++i) worst = std::max(worst, static_cast<double>(std::abs(ours[i] - expected[k * values + i])));
      CHECK(worst <= 1e-6);
    }
  }
}

TEST_CASE("Resize(256) + CenterCrop(224), the global arch's validation transform, equals torchvision's on PIL") {
  if (!test::python_has("torch, torchvision, PIL")) {
    std::printf("skipped: torchvision not found (%s cannot import torch, torchvision, PIL)\n", GLER_PYTHON);
    std::exit(77);
  }
  // Upscaled, downscaled, a shorter side already 256 (no resize), and offsets of half a pixel
  // ((257 - 224) / 2 = 16.5 and (291 - 224) / 2 = 33.5: Python rounds them to 16 and 34).
  const std::vector<io::Image> images = {test::pattern_image(97, 73, 3, 21), test::pattern_image(513, 301, 3, 22),
                                         test::pattern_image(256, 400, 3, 23), test::pattern_image(291, 257, 3, 24),
                                         test::pattern_image(80, 61, 1, 25)};
  test::TorchRef ref;
  for (std::size_t k = 0; k < images.size(); ++k) ref.put("image" + std::to_string(k), image_tensor(images[k]));
  ref.run("from PIL import Image\n"
          "import torchvision.transforms as T\n"
          "mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]\n"
          "for k in range(" + std::to_string(images.size()) + "):\n"
          "    a = load('image%d' % k).numpy()\n"
          "    img = Image.fromarray(a[:, :, 0], 'L').convert('RGB') if a.shape[2] == 1 else Image.fromarray(a, 'RGB')\n"
          "    t = T.ToTensor()(T.CenterCrop(224)(T.Resize(256)(img)))\n"
          "    save('out%d' % k, T.Normalize(mean, std)(t))\n");
  for (std::size_t k = 0; k < images.size(); ++k) {
    CAPTURE(k);
    const std::vector<float> expected = ref.get("out" + std::to_string(k)).to_vector<float>();
    std::vector<float> ours(3 * 224 * 224);
    center_crop_global_tensor(images[k], false, ours.data());
    REQUIRE(expected.size() == ours.size());
    double worst = 0;
    for (std::size_t i = 0; i < ours.size(); ++i) worst = std::max(worst, static_cast<double>(std::abs(ours[i] - expected[i])));
    CHECK(worst <= 1e-6);
  }
}
