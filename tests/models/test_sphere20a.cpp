// sphere20a without PyTorch: the state-dict keys and shapes of the seed's checkpoints
// (data/seed/state_dict_keys.txt), the initialisation, both input layouts, the heads, errors, and
// that inference under NoGradGuard records no graph.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>

#include "core/autograd.h"
#include "models/sphere20a.h"
#include "tests/support/tensors.h"
#include "tests/support/torch_ref.h"
#include "tests/models/state_dict_listing.h"

using namespace gler;
using models::SphereHead;

namespace {

// "name (d0, d1, ...)" lines of one section of the seed's key listing, `prefix` stripped.
std::vector<std::string> seed_keys(const std::string& section, const std::string& prefix) {
  std::ifstream in(std::string(GLER_SOURCE_DIR) + "/data/seed/state_dict_keys.txt");
  REQUIRE(in.good());
  std::vector<std::string> out;
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.starts_with("### ")) {
      inside = line.starts_with("### " + section);
      continue;
    }
    if (inside && line.starts_with(prefix)) out.push_back(line.substr(prefix.size()));
  }
  return out;
}


double stddev(const std::vector<float>& v) {
  double s = 0, ss = 0;
  for (float x : v) s += x;
  const double mean = s / static_cast<double>(v.size());
  for (float x : v) ss += (x - mean) * (x - mean);
  return std::sqrt(ss / static_cast<double>(v.size()));
}

bool records_no_graph(const Tensor& t) { return t.is_leaf() && !t.requires_grad(); }

}  // namespace

TEST_CASE("sphere20a state dicts are key for key the seed's, for each head") {
  Generator gen(1);
  const models::Sphere20a local(gen, {.head = SphereHead::linear, .classes = 3});
  CHECK(test::state_dict_listing(local) == seed_keys("Local:", "module."));
  CHECK(local.state_dict().size() == 64);
  const models::Sphere20a lsoftmax(gen, {.head = SphereHead::lsoftmax, .classes = 3});
  CHECK(test::state_dict_listing(lsoftmax) == seed_keys("Base for LSoftmax:", "module."));
  const models::Sphere20a attention(
      gen, {.head = SphereHead::linear, .classes = 256, .linear_init = models::LinearInit::kaiming});
  CHECK(test::state_dict_listing(attention) == seed_keys("Attention_A:", "module.align_model."));
  // SphereFace's own checkpoint (sphere20a_20171020.pth): fc6 is AngleLinear(512, 10574), weight (in, out).
  const models::Sphere20a sphereface(gen, {.head = SphereHead::angle, .classes = 10574});
  CHECK(test::state_dict_listing(sphereface).back() == "fc6.weight (512, 10574)");
  const models::Sphere20a trunk(gen, {.head = SphereHead::none});
  CHECK(trunk.state_dict().size() == 62);
  CHECK(trunk.fc5_in_features() == 21504);
}

TEST_CASE("sphere20a initialisation: PyTorch defaults, PReLU 0.25, and the seed's kaiming heads") {
  Generator gen(3);
  const models::Sphere20a m(gen,
                            {.head = SphereHead::linear, .classes = 256, .linear_init = models::LinearInit::kaiming});
  const NamedTensors params = m.named_parameters();
  for (const auto& [name, t] : params) {
    CAPTURE(name);
    const std::vector<float> v = t.to_vector<float>();
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    if (name.starts_with("relu")) {
      CHECK((*lo == 0.25f && *hi == 0.25f));
    } else if (name == "fc6.weight") {
      CHECK(std::abs(stddev(v) - std::sqrt(2.0 / 512)) < 0.03 * std::sqrt(2.0 / 512));
    } else if (name == "fc6.bias") {
      CHECK((*lo == 0.01f && *hi == 0.01f));
    } else {
      // U(±1/√fan_in) for weights and biases (fan_in of the layer's weight): bounded (up to f32
      // rounding of the bound), std = bound/√3.
      const std::string layer = name.substr(0, name.find('.'));
      std::int64_t fan = 0;
      for (const auto& [other, w] : params)
        if (other == layer + ".weight") fan = fan_in(w);
      const double bound = 1.0 / std::sqrt(static_cast<double>(fan));
      CHECK(std::max(-*lo, *hi) <= bound * (1 + 1e-6));
      if (v.size() >= 4096) CHECK(std::abs(stddev(v) - bound / std::sqrt(3.0)) < 0.03 * bound);
    }
  }
}

TEST_CASE("sphere20a accepts SphereFace's 112x96 and the seed's 96x112 faces, and refuses other sizes") {
  Generator gen(5);
  models::Sphere20a m(gen, {.head = SphereHead::none});
  m.eval();
  NoGradGuard no_grad;
  Generator data(6);
  const Tensor portrait = test::uniform_tensor({1, 3, 112, 96}, data, 0, 1);
  const Tensor landscape = test::uniform_tensor({2, 3, 96, 112}, data, 0, 1);
  const models::SphereOutput a = m.forward(portrait), b = m.forward(landscape);
  CHECK(a.feature.shape() == Shape{1, 512});
  CHECK(b.feature.shape() == Shape{2, 512});
  CHECK(!a.logits.defined());
  CHECK(!a.angle.cos_theta.defined());
  test::expect_error_naming("square input", {"[1, 3, 112, 112]", "21504", "112×96", "96×112"}, [&] {
    m.features(Tensor::zeros({1, 3, 112, 112}));
  });
  test::expect_error_naming("grey input", {"[B, 3, H, W]"}, [&] { m.features(Tensor::zeros({1, 1, 112, 96})); });
}

TEST_CASE("sphere20a heads share the trunk: the same seed gives the same fc5 feature") {
  Generator data(8);
  const Tensor x = test::uniform_tensor({2, 3, 96, 112}, data, 0, 1);
  NoGradGuard no_grad;
  Generator g1(9), g2(9);
  models::Sphere20a plain(g1, {.head = SphereHead::none});
  models::Sphere20a angle(g2, {.head = SphereHead::angle, .classes = 5});
  const models::SphereOutput a = plain.forward(x), b = angle.forward(x);
  CHECK(test::max_abs_diff(a.feature, b.feature) == 0);
  CHECK(b.angle.cos_theta.shape() == Shape{2, 5});
  CHECK(b.angle.phi_theta.shape() == Shape{2, 5});
  CHECK(!b.logits.defined());
}

TEST_CASE("sphere20a inference under NoGradGuard records no graph; training does") {
  Generator gen(10);
  models::Sphere20a m(gen, {.head = SphereHead::lsoftmax, .classes = 3});
  Generator data(11);
  const Tensor x = test::uniform_tensor({2, 3, 96, 112}, data, 0, 1);
  {
    NoGradGuard no_grad;
    m.eval();
    const models::SphereOutput out = m.forward(x);
    CHECK(records_no_graph(out.feature));
    CHECK(records_no_graph(out.logits));
  }
  m.train();
  const models::SphereOutput out = m.forward(x, Tensor::from_vector<std::int64_t>({0, 2}, {2}));
  CHECK(out.logits.grad_fn() != nullptr);
  CHECK(out.feature.grad_fn() != nullptr);
}

TEST_CASE("a narrow sphere20a (gradient-check size) keeps the structure and both layouts") {
  Generator gen(12);
  models::Sphere20a m(gen, {.head = SphereHead::linear,
                            .classes = 2,
                            .widths = {2, 3, 4, 5},
                            .feature_dim = 6,
                            .input_height = 32,
                            .input_width = 16});
  CHECK(m.fc5_in_features() == 5 * 2 * 1);
  CHECK(m.named_parameters().size() == 64);
  NoGradGuard no_grad;
  CHECK(m.forward(Tensor::zeros({1, 3, 32, 16})).logits.shape() == Shape{1, 2});
  CHECK(m.forward(Tensor::zeros({1, 3, 16, 32})).logits.shape() == Shape{1, 2});
  test::expect_error_naming("bad widths", {"stage 2", "width"}, [] {
    Generator g(1);
    models::Sphere20a bad(g, {.widths = {2, 0, 4, 5}});
  });
}
