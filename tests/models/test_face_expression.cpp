// face-api's face-expression network without node: its state dict is what gler_import writes for
// face-api's manifest (weights_import's face_expression spec), TensorFlow's 'same' padding, the
// forward shapes and errors, loading, and the input preparation's crop, padding and resize rules
// on cases small enough to work out by hand. test_face_expression_parity compares with face-api.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include "core/autograd.h"
#include "core/ops.h"
#include "io/resize_tfjs.h"
#include "models/checkpoint.h"
#include "models/face_expression.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tensors.h"
#include "weights_import/arch_specs.h"
#include "weights_import/tensor_data.h"

using namespace gler;

namespace {

// Naive cross-correlation of one [H, W] plane with a 3x3 kernel of ones, TF 'same' padding given
// explicitly: the window of output (i, j) starts at (i·stride − top, j·stride − left).
std::vector<float> window_sums(const std::vector<float>& x, int h, int w, int stride, int top, int left, int oh, int ow) {
  std::vector<float> out;
  for (int i = 0; i < oh; ++i)
    for (int j = 0; j < ow; ++j) {
      float s = 0;
      for (int di = 0; di < 3; ++di)
        for (int dj = 0; dj < 3; ++dj) {
          const int r = i * stride - top + di, c = j * stride - left + dj;
          if (r >= 0 && r < h && c >= 0 && c < w) s += x[static_cast<std::size_t>(r * w + c)];
        }
      out.push_back(s);
    }
  return out;
}

io::Image constant_image(int width, int height, std::uint8_t value) {
  io::Image image(width, height, 3);
  std::fill(image.pixels.begin(), image.pixels.end(), value);
  return image;
}

}  // namespace

TEST_CASE("the state dict is the one gler_import writes for face-api's manifest") {
  Generator gen(1);
  const models::FaceExpressionNet net(gen);
  wi::StateDict sd;
  for (const auto& [name, t] : net.state_dict()) sd.add(name, wi::to_tensor_data(t));
  CHECK(sd.entries.size() == 49);  // face-api's manifest has 49 weights
  CHECK(sd.entries.front().first == "dense0.conv0.weight");
  CHECK(sd.entries[2].first == "dense0.conv1.depthwise.weight");
  CHECK(sd.entries[2].second.shape == std::vector<std::int64_t>{32, 1, 3, 3});
  CHECK(sd.entries.back().first == "fc.bias");
  CHECK(wi::infer_arch(sd) == "face_expression");
  wi::conform_to_arch(sd, "face_expression");
  CHECK(sd.metadata.at("classes") == "neutral,happy,sad,angry,fearful,disgusted,surprised");
  CHECK(sd.metadata.at("num_classes") == "7");
  CHECK(models::face_expression_labels().size() == 7);
}

TEST_CASE("conv2d_same pads as TensorFlow: the odd padding row and column go after the input") {
  Generator gen(2);
  layers::Conv2d conv(1, 1, 3, gen, {.stride = 2, .bias = false});
  NoGradGuard no_grad;
  conv.weight.fill_(1.0);
  for (const std::array<int, 3>& c : {std::array{4, 6, 2}, std::array{5, 5, 2}, std::array{5, 4, 1}, std::array{7, 6, 2}}) {
    const int h = c[0], w = c[1], stride = c[2];
    CAPTURE(h);
    CAPTURE(w);
    CAPTURE(stride);
    conv.args.stride_h = conv.args.stride_w = stride;
    std::vector<float> x(static_cast<std::size_t>(h * w));
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i + 1);
    const Tensor y = models::conv2d_same(Tensor::from_vector(x, {1, 1, h, w}), conv);
    const int oh = (h + stride - 1) / stride, ow = (w + stride - 1) / stride;
    REQUIRE(y.shape() == Shape{1, 1, oh, ow});
    const int top = std::max((oh - 1) * stride + 3 - h, 0) / 2, left = std::max((ow - 1) * stride + 3 - w, 0) / 2;
    CHECK(y.to_vector<float>() == window_sums(x, h, w, stride, top, left, oh, ow));
  }
}

TEST_CASE("forward: 112x112 faces in, one logit per expression out; probabilities sum to 1") {
  Generator gen(3);
  const models::FaceExpressionNet net(gen);
  NoGradGuard no_grad;
  const Tensor x = test::uniform_tensor({2, 3, 112, 112}, 4);
  const Tensor logits = net.forward(x);
  CHECK(logits.shape() == Shape{2, 7});
  const std::vector<float> p = net.probabilities(x).to_vector<float>();
  CHECK(std::abs(p[0] + p[1] + p[2] + p[3] + p[4] + p[5] + p[6] - 1.0f) < 1e-6f);
  test::expect_error_naming("96x96 input", {"112"}, [&] { net.forward(Tensor::zeros({1, 3, 96, 96})); });
}

TEST_CASE("load_face_expression_net reads what save_weights wrote and refuses other architectures") {
  Generator gen(5);
  const models::FaceExpressionNet net(gen);
  test::TempDir dir("gler_face_expression");
  const std::string path = (dir.path() / "fex.safetensors").string();
  models::save_weights(net, path, {{"arch", "face_expression"}});
  const auto loaded = models::load_face_expression_net(path);
  NoGradGuard no_grad;
  const Tensor x = test::uniform_tensor({1, 3, 112, 112}, 6);
  CHECK(loaded->forward(x).to_vector<float>() == net.forward(x).to_vector<float>());
  test::expect_error_naming("the MTCNN weights", {"mtcnn", "face_expression"}, [] {
    models::load_face_expression_net(std::string(GLER_SOURCE_DIR) + "/data/mtcnn/mtcnn.safetensors");
  });
}

TEST_CASE("face_api_crop clips the box to the image, then floors x, y, width and height each") {
  auto same = [](models::CropRect a, models::CropRect b) {
    return a.x == b.x && a.y == b.y && a.width == b.width && a.height == b.height;
  };
  CHECK(same(models::face_api_crop({2.5, 3.7, 20.2, 25.9}, 40, 30), {2, 3, 20, 25}));
  CHECK(same(models::face_api_crop({-5, -5, 100, 10}, 40, 30), {0, 0, 40, 5}));
  CHECK(same(models::face_api_crop({30.5, 20.5, 20, 20}, 40, 30), {30, 20, 9, 9}));
  const auto box = models::face_box_from_mtcnn({10, 20, 29, 59});  // inclusive corners: 20 x 40
  CHECK(same(models::face_api_crop(box, 100, 100), {10, 20, 20, 40}));
  test::expect_error_naming("a box outside the image", {"no pixel", "40x30"},
                            [] { models::face_api_crop({45, 0, 10, 10}, 40, 30); });
  test::expect_error_naming("a box under one pixel wide", {"no pixel"}, [] { models::face_api_crop({3, 3, 0.9, 10}, 40, 30); });
  test::expect_error_naming("a NaN box", {"no pixel"}, [] { models::face_api_crop({std::nan(""), 0, 5, 5}, 40, 30); });
}

TEST_CASE("face_expression_input pads to a centred square, round(diff / 2) of the zeros after the face") {
  const float mean[3] = {122.782f, 117.001f, 104.298f};
  auto value = [](const Tensor& t, int c, int y, int x) { return t.host_data<float>()[(c * 112 + y) * 112 + x]; };
  auto face = [&](int c) { return (200.0f - mean[c]) / 255.0f; };
  auto pad = [&](int c) { return (0.0f - mean[c]) / 255.0f; };
  // 112 wide, 109 tall: diff 3, two zero rows below, one above; a 112 square is not resized.
  const Tensor wide = models::face_expression_input(constant_image(112, 109, 200), {0, 0, 112, 109});
  REQUIRE(wide.shape() == Shape{3, 112, 112});
  for (int c = 0; c < 3; ++c) {
    CHECK(value(wide, c, 0, 5) == pad(c));
    CHECK(value(wide, c, 1, 5) == face(c));
    CHECK(value(wide, c, 109, 111) == face(c));
    CHECK(value(wide, c, 110, 0) == pad(c));
    CHECK(value(wide, c, 111, 0) == pad(c));
  }
  // 110 wide, 112 tall: diff 2, one zero column on each side.
  const Tensor tall = models::face_expression_input(constant_image(120, 120, 200), {5, 3, 110, 112});
  CHECK(value(tall, 1, 50, 0) == pad(1));
  CHECK(value(tall, 1, 50, 1) == face(1));
  CHECK(value(tall, 1, 50, 110) == face(1));
  CHECK(value(tall, 1, 50, 111) == pad(1));
  test::expect_error_naming("a grey image", {"RGB"}, [] {
    io::Image grey(10, 10, 1);
    models::face_expression_input(grey, {0, 0, 10, 10});
  });
}

TEST_CASE("resize_bilinear_tfjs: tfjs's source coordinates and interpolation order") {
  // 2x2 -> 3x3, scale 2/3: rows and columns 0, 2/3, 4/3 (the last clamped to the edge).
  const std::vector<float> src{1, 2, 3, 4};
  const double f = 2.0 / 3.0;
  auto lerp = [](double a, double b, double t) { return a + (b - a) * t; };
  const double top = lerp(1, 2, f), bottom = lerp(3, 4, f);
  const std::vector<float> want{1, static_cast<float>(top), 2,
                                static_cast<float>(lerp(1, 3, f)), static_cast<float>(lerp(top, bottom, f)),
                                static_cast<float>(lerp(2, 4, f)),
                                3, static_cast<float>(bottom), 4};
  CHECK(io::resize_bilinear_tfjs(src.data(), 2, 2, 1, 3, 3) == want);
  // align_corners: the corners map onto each other, so 2x2 -> 3x3 has the midpoints in between.
  CHECK(io::resize_bilinear_tfjs(src.data(), 2, 2, 1, 3, 3, true) == std::vector<float>{1, 1.5f, 2, 2, 2.5f, 3, 3, 3.5f, 4});
  CHECK(io::resize_bilinear_tfjs(src.data(), 2, 2, 1, 2, 2) == src);
  test::expect_error_naming("both options", {"align_corners", "half_pixel_centers"},
                            [&] { io::resize_bilinear_tfjs(src.data(), 2, 2, 1, 3, 3, true, true); });
  test::expect_error_naming("an empty output", {"positive"}, [&] { io::resize_bilinear_tfjs(src.data(), 2, 2, 1, 0, 3); });
}
