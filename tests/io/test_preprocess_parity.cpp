// io/preprocess against torchvision 0.14 + Pillow 9.4 on real photos: the global input
// (Resize((224, 224)) -> ToTensor -> Normalize) and the face crop tensors, bit for bit (max abs
// difference 0: the same Pillow resize, then the same float32 operations in the same order).
// torchvision 0.14's Normalize cannot reproduce torchvision 0.2.1's zip over the channels of a
// greyscale image, so that case is computed in torch from the same formula, with the constants as
// float32 tensors as Normalize holds them.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "io/preprocess.h"
#include "tests/io/image_testing.h"
#include "tests/support/torch_ref.h"

using namespace gler;

namespace {

Tensor global_tensor(const io::Image& image, bool seed_compat) {
  Tensor t = Tensor::empty({3, io::kGlobalImageSize, io::kGlobalImageSize});
  io::global_image_tensor(image, seed_compat, t.host_data<float>());
  return t;
}

// The photos: bundled ones always, ../shared ones when present.
std::vector<std::string> photos() {
  std::vector<std::string> out = {test::source_path("data/photos/ipazc_ivan.jpg"),
                                  test::source_path("data/photos/solvay_1927_gray.jpg")};
  for (const char* name : {"dlib_2007_007763.jpg", "dlib_2008_002470.jpg"}) {
    const std::string p = test::shared_path(std::string("data/photos/") + name);
    if (std::filesystem::exists(p)) out.push_back(p);
    else MESSAGE("skipped: " << p << " not found");
  }
  return out;
}

const char* kTransforms = R"(
from PIL import Image
import torchvision.transforms as T
norm = T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
def global_ref(img):
    return norm(T.ToTensor()(T.Resize((224, 224))(img)))
)";

}  // namespace

TEST_CASE("the global input equals torchvision's Resize((224,224)), ToTensor, Normalize on real photos") {
  for (const std::string& photo : photos()) {
    CAPTURE(photo);
    const io::Image decoded = io::read_image(photo);
    test::TorchRef ref;
    ref.run(std::string(kTransforms) + "img = Image.open('" + photo + "')\n"
            "save('rgb', global_ref(img.convert('RGB')))\n"
            "if img.mode == 'L':\n"
            "    t = T.ToTensor()(T.Resize((224, 224))(img))\n"
            "    mean = torch.as_tensor([0.485], dtype=torch.float32)\n"
            "    std = torch.as_tensor([0.229], dtype=torch.float32)\n"
            "    save('seed', t.sub(mean[:, None, None]).div(std[:, None, None]).repeat(3, 1, 1))\n"
            "else:\n"
            "    save('seed', global_ref(img))\n");
    // Corrected mode: every image as RGB with per-channel constants.
    CHECK(test::max_abs_diff(global_tensor(decoded, false), ref.get("rgb")) == 0.0);
    // Seed mode: the same for RGB photos; the red channel's constants for a greyscale one.
    CHECK(test::max_abs_diff(global_tensor(decoded, true), ref.get("seed")) == 0.0);
  }
}

TEST_CASE("RGBA drops its alpha before the global resize, as convert('RGB') does") {
  const io::Image rgba = test::random_image(61, 47, 4, 3);
  test::TorchRef ref;
  ref.put("rgba", test::image_tensor(rgba));
  ref.run(std::string(kTransforms) +
          "img = Image.fromarray(load('rgba').numpy(), 'RGBA').convert('RGB')\nsave('out', global_ref(img))\n");
  CHECK(test::max_abs_diff(global_tensor(rgba, true), ref.get("out")) == 0.0);
}

TEST_CASE("face tensors: ToTensor in seed mode, SphereFace's (x - 127.5) / 128 otherwise") {
  const io::Image crop = test::random_image(112, 96, 3, 7);
  Tensor seed = Tensor::empty({3, 96, 112}), corrected = Tensor::empty({3, 96, 112});
  io::face_tensor(crop, true, seed.host_data<float>());
  io::face_tensor(crop, false, corrected.host_data<float>());
  test::TorchRef ref;
  ref.put("crop", test::image_tensor(crop));
  ref.run(R"(
from PIL import Image
import torchvision.transforms as T
img = Image.fromarray(load('crop').numpy(), 'RGB')
save('seed', T.ToTensor()(T.Resize((96, 112))(img)))
x = torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1).float()
save('corrected', (x - 127.5) / 128.0)
)");
  CHECK(test::max_abs_diff(seed, ref.get("seed")) == 0.0);
  CHECK(test::max_abs_diff(corrected, ref.get("corrected")) == 0.0);

  // A greyscale crop is replicated into the three channels.
  const io::Image gray = test::random_image(112, 96, 1, 9);
  Tensor g = Tensor::empty({3, 96, 112});
  io::face_tensor(gray, true, g.host_data<float>());
  const std::vector<float> v = g.to_vector<float>();
  for (std::size_t i = 0; i < gray.pixels.size(); i += 97) {
    CHECK(v[i] == static_cast<float>(gray.pixels[i]) / 255.0f);
    CHECK(v[gray.pixels.size() + i] == v[i]);
    CHECK(v[2 * gray.pixels.size() + i] == v[i]);
  }
}

TEST_CASE("an RGBA face crop is refused with a clear error") {
  float out[3 * 4];
  CHECK_THROWS_WITH_AS(io::face_tensor(io::Image(2, 2, 4), true, out), doctest::Contains("expected 1 or 3 channels"), Error);
}
