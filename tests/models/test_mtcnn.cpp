// The MTCNN nets without PyTorch: parameter names against the bundled weights, initialisation,
// shapes, errors, no graph under NoGradGuard, and the bundled weights reproducing reference dumps on
// real photos within 1e-4: the bundled ipazc_ivan dumps (data/reference/mtcnn/net_dumps, PyTorch on
// identical weights) and, where present, the seed's own dumps for a photo kept outside the repository.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "core/autograd.h"
#include "core/ops.h"
#include "layers/linear.h"
#include "models/checkpoint.h"
#include "models/mtcnn_nets.h"
#include "tests/support/tensors.h"
#include "tests/support/torch_ref.h"
#include "weights_import/import_source.h"
#include "weights_import/npy.h"

using namespace gler;
namespace fs = std::filesystem;

namespace {

const std::string kWeights = std::string(GLER_SOURCE_DIR) + "/data/mtcnn/mtcnn.safetensors";

const models::MtcnnNets& nets() {
  static const models::MtcnnNets n(kWeights);
  return n;
}

Tensor npy(const std::string& path, DType dtype) { return wi::to_tensor(wi::read_npy(path), dtype); }

void check_close(const Tensor& ours, const Tensor& theirs, const std::string& what) {
  CAPTURE(what);
  REQUIRE(ours.shape() == theirs.shape());
  const double err = test::max_rel_diff(ours, theirs);
  CAPTURE(err);
  CHECK(err < 1e-4);
}

// Runs the three nets on the dumps of `stem` in `dir` (file names as in data/reference/mtcnn/README.md).
void check_dumps(const std::string& dir, const std::string& stem, const std::string& level) {
  const std::string p = dir + "/" + stem + "_";
  NoGradGuard no_grad;
  {
    const Tensor image = npy(p + level + "_input_rgb_uint8.npy", DType::u8);
    const Tensor x = models::mtcnn_normalize(image.reshape({1, image.size(0), image.size(1), 3}));
    const models::PNetOutput out = nets().pnet.forward(x);
    check_close(out.probs, npy(p + level + "_prob.npy", DType::f32), stem + " P-Net probs");
    check_close(out.offsets, npy(p + level + "_offsets.npy", DType::f32), stem + " P-Net offsets");
  }
  {
    const models::RNetOutput out =
        nets().rnet.forward(models::mtcnn_normalize(npy(p + "rnet_input_nhwc_uint8.npy", DType::u8)));
    check_close(out.probs, npy(p + "rnet_prob.npy", DType::f32), stem + " R-Net probs");
    check_close(out.offsets, npy(p + "rnet_offsets.npy", DType::f32), stem + " R-Net offsets");
  }
  const models::ONetOutput out =
      nets().onet.forward(models::mtcnn_normalize(npy(p + "onet_input_nhwc_uint8.npy", DType::u8)));
  check_close(out.probs, npy(p + "onet_prob.npy", DType::f32), stem + " O-Net probs");
  check_close(out.offsets, npy(p + "onet_offsets.npy", DType::f32), stem + " O-Net offsets");
  check_close(out.landmarks, npy(p + "onet_landmarks_raw.npy", DType::f32), stem + " O-Net landmarks");
  if (fs::exists(p + "onet_features.npy"))
    check_close(out.features, npy(p + "onet_features.npy", DType::f32), stem + " O-Net features");
}

std::vector<std::string> file_names(const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& [name, t] : wi::read_source(kWeights).entries)
    if (name.starts_with(prefix)) out.push_back(name.substr(prefix.size()));
  return out;
}

bool records_no_graph(const Tensor& t) { return t.is_leaf() && !t.requires_grad(); }

}  // namespace

TEST_CASE("MTCNN parameter names and order are those of the bundled weights") {
  Generator gen(1);
  const models::PNet pnet(gen);
  const models::RNet rnet(gen);
  const models::ONet onet(gen);
  CHECK(test::names(pnet.state_dict()) == file_names("pnet."));
  CHECK(test::names(rnet.state_dict()) == file_names("rnet."));
  CHECK(test::names(onet.state_dict()) == file_names("onet."));
  CHECK(onet.state_dict().size() == 21);
  // A file of another net is refused naming what is missing.
  Generator g2(2);
  models::PNet other(g2);
  test::expect_error_naming("rnet into pnet", {"features.conv4.weight"},
                            [&] { models::load_weights(other, kWeights, "rnet."); });
}

TEST_CASE("MTCNN default initialisation is PyTorch's: U(±1/√fan_in), PReLU 0.25") {
  Generator gen(3);
  const models::ONet onet(gen);
  for (const auto& [name, t] : onet.named_parameters()) {
    CAPTURE(name);
    const std::string layer = name.substr(0, name.rfind('.'));
    const std::vector<float> v = t.to_vector<float>();
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    if (name.find("prelu") != std::string::npos) {
      CHECK((*lo == 0.25f && *hi == 0.25f));
      continue;
    }
    std::int64_t fan = 0;
    for (const auto& [other, w] : onet.named_parameters())
      if (other == layer + ".weight") fan = fan_in(w);
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan));
    CHECK(std::max(-*lo, *hi) <= bound * (1 + 1e-6));  // up to f32 rounding of the bound
  }
}

TEST_CASE("MTCNN output shapes, ceil-mode maps and input checks") {
  NoGradGuard no_grad;
  // (37 - 2) = 35 pooled with ceil -> 18 (floor would give 17), then -4: 14; 53 -> 51 -> 26 -> 22.
  const models::PNetOutput p = nets().pnet.forward(Tensor::zeros({2, 3, 37, 53}));
  CHECK(p.probs.shape() == Shape{2, 2, 14, 22});
  CHECK(p.offsets.shape() == Shape{2, 4, 14, 22});
  CHECK(nets().pnet.forward(Tensor::zeros({1, 3, 12, 12})).probs.shape() == Shape{1, 2, 1, 1});
  const models::RNetOutput r = nets().rnet.forward(Tensor::zeros({3, 3, 24, 24}));
  CHECK(r.probs.shape() == Shape{3, 2});
  CHECK(r.offsets.shape() == Shape{3, 4});
  const models::ONetOutput o = nets().onet.forward(Tensor::zeros({1, 3, 48, 48}));
  CHECK(o.landmarks.shape() == Shape{1, 10});
  CHECK(o.features.shape() == Shape{1, 256});
  test::expect_error_naming("small P-Net input", {"12×12", "[1, 3, 11, 30]"}, [] {
    nets().pnet.forward(Tensor::zeros({1, 3, 11, 30}));
  });
  test::expect_error_naming("R-Net size", {"24×24", "[1, 3, 23, 24]"}, [] {
    nets().rnet.forward(Tensor::zeros({1, 3, 23, 24}));
  });
  test::expect_error_naming("O-Net size", {"48×48"}, [] { nets().onet.forward(Tensor::zeros({1, 3, 24, 24})); });
  test::expect_error_naming("NHWC float", {"u8", "[N, H, W, 3]"}, [] {
    models::mtcnn_normalize(Tensor::zeros({1, 4, 4, 3}));
  });
}

TEST_CASE("mtcnn_normalize is the seed's (u8 - 127.5) * 0.0078125 in NCHW") {
  const Tensor img = Tensor::from_vector<std::uint8_t>({0, 127, 128, 255, 1, 2}, {1, 1, 2, 3});
  const std::vector<float> v = models::mtcnn_normalize(img).to_vector<float>();
  CHECK(models::mtcnn_normalize(img).shape() == Shape{1, 3, 1, 2});
  // channel 0 holds pixels 0 and 1: 0 and 255.
  CHECK(v == std::vector<float>{-127.5f * 0.0078125f, 127.5f * 0.0078125f, -0.5f * 0.0078125f, -126.5f * 0.0078125f,
                                0.5f * 0.0078125f, -125.5f * 0.0078125f});
}

TEST_CASE("O-Net's features are the input of its heads; its dropout acts only in training") {
  Generator data(4);
  const Tensor x = test::uniform_tensor({3, 3, 48, 48}, data);
  NoGradGuard no_grad;
  const models::ONet& onet = nets().onet;
  const models::ONetOutput out = onet.forward(x);
  const Tensor probs = ops::softmax(layers::linear(out.features, onet.conv6_1.weight, onet.conv6_1.bias), 1);
  CHECK(test::max_abs_diff(probs, out.probs) == 0);
  CHECK(test::max_abs_diff(onet.forward(x).features, out.features) == 0);
  Generator gen(1);
  models::ONet fresh(gen);
  CHECK(fresh.is_training());
  test::expect_error_naming("training without generator", {"generator"}, [&] { fresh.forward(x); });
  Generator drop(5);
  const models::ONetOutput trained = fresh.forward(x, &drop);
  fresh.eval();
  CHECK(test::max_abs_diff(trained.features, fresh.forward(x).features) > 0);
}

TEST_CASE("MTCNN inference under NoGradGuard records no graph; without it the graph is there") {
  const Tensor x = Tensor::zeros({1, 3, 48, 48});
  {
    NoGradGuard no_grad;
    const models::ONetOutput o = nets().onet.forward(x);
    for (const Tensor* t : {&o.probs, &o.offsets, &o.landmarks, &o.features}) CHECK(records_no_graph(*t));
    const models::RNetOutput r = nets().rnet.forward(Tensor::zeros({1, 3, 24, 24}));
    CHECK(records_no_graph(r.probs));
    const models::PNetOutput p = nets().pnet.forward(Tensor::zeros({1, 3, 12, 12}));
    CHECK(records_no_graph(p.probs));
    CHECK(records_no_graph(p.offsets));
  }
  CHECK(nets().onet.forward(x).probs.grad_fn() != nullptr);
}

TEST_CASE("the bundled weights reproduce the bundled ipazc_ivan network dumps") {
  check_dumps(std::string(GLER_SOURCE_DIR) + "/data/reference/mtcnn/net_dumps", "ipazc_ivan", "s3");
}

TEST_CASE("the bundled weights reproduce the seed's own network dumps (photo kept outside the repository)") {
  const std::string dir = std::string(GLER_SHARED_DIR) + "/data/reference/mtcnn/net_dumps";
  const std::string first = dir + "/dlib_2007_007763_s0_input_rgb_uint8.npy";
  if (!fs::exists(first)) {
    std::printf("skipped: %s not found\n", first.c_str());
    return;
  }
  check_dumps(dir, "dlib_2007_007763", "s0");
}
