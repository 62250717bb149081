// train/data EmotiC transform against the seed's Python (SEED_SPEC §5): skimage.transform.resize
// with its defaults (order 1, anti-aliasing when shrinking) on float32 images, and the seed's
// whole EmotiC.__getitem__ + Rescale(224) + crop on JPEG/PNG files (greyscale, RGBA, the 2-row
// hack) read by PIL. Needs /usr/bin/python3 with torch, skimage (Debian's python3-skimage) and PIL;
// skipped otherwise.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "io/image.h"
#include "tests/support/temp_dir.h"
#include "tests/support/torch_ref.h"
#include "tests/train/data/tiny_emotiw.h"
#include "tests/support/python_modules.h"
#include "train/data/emotic_dataset.h"

namespace fs = std::filesystem;
using namespace gler;
using namespace gler::train;

namespace {

FloatImage random_image(int h, int w, int c, unsigned seed, bool smooth) {
  FloatImage im;
  im.height = h;
  im.width = w;
  im.channels = c;
  std::uint32_t s = seed * 2654435761u + 1;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < c; ++k) {
        s = s * 1664525u + 1013904223u;
        const float noise = static_cast<float>((s >> 8) & 0xffff) / 65535.0f;
        const float v = smooth ? 0.5f + 0.3f * std::sin(0.05f * x + 0.11f * y + k) + 0.2f * (noise - 0.5f) : noise;
        im.values.push_back(static_cast<float>(static_cast<std::uint8_t>(v * 255.0f) / 255.0));
      }
  return im;
}

// prefix + i (built in a stream: GCC 12 warns falsely, -Wrestrict, on name("x", i)).
std::string name(const char* prefix, std::size_t i) {
  std::ostringstream s;
  s << prefix << i;
  return s.str();
}

double max_abs(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

}  // namespace

TEST_CASE("skimage.transform.resize(order=1) defaults: gler's skimage_resize matches") {
  test::require_torch("torch, numpy, scipy, skimage.transform");
  struct Case {
    int h, w, oh, ow;
  };
  const std::vector<Case> cases = {
      {480, 640, 224, 298},  // COCO landscape, shrink 2.14
      {640, 427, 335, 224},  // portrait
      {1000, 230, 973, 224}, // shrinks one axis only slightly, the other a lot
      {230, 225, 224, 224},  // tiny shrink
      {100, 150, 224, 336},  // upscale: no anti-aliasing
      {224, 224, 224, 224},  // identity
      {2000, 2400, 224, 268},// shrink ~9: wide Gaussian
      {9, 5, 37, 20},        // tiny, upscale
      {50, 40, 20, 60},      // one axis shrinks, one grows
      {1, 3, 224, 672},      // one row
      {7, 3, 522, 224},      // the 2-row hack's shape
  };
  test::TorchRef ref;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Case& k = cases[i];
    const FloatImage im = random_image(k.h, k.w, 3, static_cast<unsigned>(i), i % 2 == 0);
    ref.put(name("x", i), Tensor::from_vector(im.values, Shape({k.h, k.w, 3})));
  }
  std::ostringstream shapes;
  for (const Case& k : cases) shapes << "(" << k.oh << ", " << k.ow << "),";
  std::string code = "from skimage import transform\nshapes = [" + shapes.str();
  code +=
      "]\n"
      "for i, s in enumerate(shapes):\n"
      "    x = load('x%d' % i).numpy()\n"
      "    assert x.dtype == np.float32\n"
      "    y = transform.resize(x, s)\n"
      "    assert y.dtype == np.float32, y.dtype\n"
      "    save('y%d' % i, y)\n";
  ref.run(code);
  double worst = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Case& k = cases[i];
    CAPTURE(i);
    const FloatImage im = random_image(k.h, k.w, 3, static_cast<unsigned>(i), i % 2 == 0);
    const FloatImage got = skimage_resize(im, k.oh, k.ow);
    const Tensor want = ref.get(name("y", i));
    REQUIRE(want.shape() == Shape({k.oh, k.ow, 3}));
    const double d = max_abs(got.values, want.to_vector<float>());
    CHECK(d <= 1e-6);
    worst = std::max(worst, d);
  }
  std::printf("skimage resize parity: max |gler - skimage| = %.3g over %zu shapes\n", worst, cases.size());
}

TEST_CASE("the seed's EmotiC __getitem__ + Rescale(224) + crop on image files: gler's emotic_global_tensor matches") {
  test::require_torch("torch, numpy, scipy, skimage.transform, PIL");
  test::TempDir dir("gler_emotic_parity");
  struct File {
    std::string name;
    io::Image image;
  };
  const std::vector<File> files = {
      {"rgb.jpg", test::pattern_image(640, 480, 3, 1)},   {"grey.jpg", test::pattern_image(300, 451, 1, 2)},
      {"rgba.png", test::pattern_image(250, 240, 4, 3)},  {"small.png", test::pattern_image(120, 90, 3, 4)},
      {"square.jpg", test::pattern_image(224, 224, 3, 5)}, {"two_rows.png", test::pattern_image(9, 2, 3, 6)},
      {"big.jpg", test::pattern_image(1600, 1100, 3, 7)},
  };
  std::vector<io::Image> decoded;
  std::vector<CropOffset> crops;
  std::string code =
      "from PIL import Image\n"
      "from skimage import transform\n"
      "def seed(path, top, left):\n"
      "    image = np.asarray(Image.open(path))\n"
      "    if len(image) == 2:\n"
      "        image = image[0]\n"
      "    if len(image.shape) == 2:\n"
      "        image_1 = np.zeros((image.shape[0], image.shape[1], 3))\n"
      "        for c in range(3):\n"
      "            image_1[:, :, c] = image\n"
      "        image = image_1\n"
      "    if image.shape[2] == 4:\n"
      "        image = image[:, :, 0:3]\n"
      "    image = image / 255.0\n"
      "    image = image.astype('float32')\n"
      "    h, w = image.shape[:2]\n"
      "    if h > w:\n"
      "        new_h, new_w = 224 * h / w, 224\n"
      "    else:\n"
      "        new_h, new_w = 224, 224 * w / h\n"
      "    img = transform.resize(image, (int(new_h), int(new_w)))\n"
      "    img = img[top: top + 224, left: left + 224]\n"
      "    return torch.FloatTensor(img.transpose((2, 0, 1)).tolist())\n";
  for (std::size_t i = 0; i < files.size(); ++i) {
    const fs::path p = dir.path() / files[i].name;
    if (p.extension() == ".png") io::write_png(files[i].image, p.string());
    else io::write_jpeg(files[i].image, p.string(), 90);
    decoded.push_back(io::read_image(p.string()));
    const FloatImage f = emotic_float_image(decoded.back());
    const ImageSize size = emotic_rescale_size(f.height, f.width);
    // The largest offset RandomCrop can draw (d − 225), or 0.
    const CropOffset crop{std::max(0, size.height - 225), std::max(0, size.width - 225)};
    crops.push_back(crop);
    std::ostringstream line;  // (not string concatenation: GCC 12's -Wrestrict false positive)
    line << "save('y" << i << "', seed('" << p.string() << "', " << crop.top << ", " << crop.left << "))\n";
    code += line.str();
  }
  test::TorchRef ref;
  ref.run(code);
  double worst = 0;
  for (std::size_t i = 0; i < files.size(); ++i) {
    CAPTURE(files[i].name);
    std::vector<float> got(3 * 224 * 224);
    emotic_global_tensor(decoded[i], crops[i], got.data());
    const Tensor want = ref.get(name("y", i));
    REQUIRE(want.shape() == Shape({3, 224, 224}));
    const double d = max_abs(got, want.to_vector<float>());
    CHECK(d <= 1e-5);
    worst = std::max(worst, d);
  }
  std::printf("seed EmotiC transform parity: max |gler - seed| = %.3g over %zu files\n", worst, files.size());
}
