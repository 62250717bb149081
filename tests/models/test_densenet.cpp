// The DenseNet family without PyTorch: presets, state-dict layout, initialisation statistics,
// graph-free inference and its memory, the seed's head, and the errors callers can hit.
// Parity with torchvision (outputs, gradients, checkpoints) is test_densenet_parity.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <map>

#include "core/autograd.h"
#include "core/backend.h"
#include "core/ops.h"
#include "models/densenet.h"
#include "tests/support/tensors.h"
#include "tests/support/torch_ref.h"

using namespace gler;
using models::DenseNet;
using models::DenseNetConfig;

namespace {

// growth 2, one layer per block, 4 initial features: four blocks, so a 224x224 image gives 7x7.
DenseNetConfig tiny_config(std::int64_t blocks = 4) {
  return DenseNetConfig{.growth_rate = 2,
                        .block_config = std::vector<int>(static_cast<std::size_t>(blocks), 1),
                        .num_init_features = 4,
                        .bn_size = 2,
                        .num_classes = 3};
}

struct Moments {
  double mean = 0, std = 0, kurtosis = 0;  // kurtosis E[(x-μ)⁴]/σ⁴: 3 for a normal, 1.8 for a uniform
};

Moments moments(const std::vector<double>& v) {
  Moments m;
  for (double x : v) m.mean += x;
  m.mean /= static_cast<double>(v.size());
  double m2 = 0, m4 = 0;
  for (double x : v) {
    const double d = (x - m.mean) * (x - m.mean);
    m2 += d;
    m4 += d * d;
  }
  m2 /= static_cast<double>(v.size());
  m4 /= static_cast<double>(v.size());
  m.std = std::sqrt(m2);
  m.kurtosis = m4 / (m2 * m2);
  return m;
}

bool all_equal(const std::vector<double>& v, double value) {
  for (double x : v)
    if (x != value) return false;
  return true;
}

}  // namespace

TEST_CASE("presets are torchvision's and the channel arithmetic matches") {
  const std::vector<std::pair<std::string, std::int64_t>> expected{
      {"densenet121", 1024}, {"densenet161", 2208}, {"densenet169", 1664}, {"densenet201", 1920}};
  CHECK(models::densenet_archs().size() == expected.size());
  for (const auto& [arch, features] : expected) {
    CAPTURE(arch);
    const DenseNetConfig c = models::densenet_config(arch, 3);
    CHECK(c.num_features() == features);
    CHECK(c.bn_size == 4);
    CHECK(c.drop_rate == 0.0);
    CHECK(c.num_classes == 3);
  }
  const DenseNetConfig d161 = models::densenet_config("densenet161");
  CHECK(d161.growth_rate == 48);
  CHECK(d161.block_config == std::vector<int>{6, 12, 36, 24});
  CHECK(d161.num_init_features == 96);
  CHECK(d161.num_classes == 1000);
  test::expect_error_naming("unknown arch", {"densenet162", "densenet161"},
                            [] { models::densenet_config("densenet162"); });
  DenseNetConfig bad = tiny_config();
  bad.block_config = {1, 0};
  test::expect_error_naming("empty block", {"block 2", "0 layers"}, [&] { bad.num_features(); });
  bad = tiny_config();
  bad.drop_rate = 1.0;
  test::expect_error_naming("drop rate", {"drop_rate"}, [&] { bad.num_features(); });
}

TEST_CASE("densenet161 has the seed's 967 state-dict entries and 26,478,627 parameters, in torchvision's order") {
  Generator gen(1);
  DenseNet net(models::densenet_config("densenet161", 3), gen);
  const NamedTensors sd = net.state_dict();
  CHECK(sd.size() == 967);  // SEED_SPEC §6.2: 161 BatchNorms x 5, 160 convs, the classifier's 2
  std::int64_t scalars = 0;
  for (const auto& [name, p] : net.named_parameters()) scalars += p.numel();
  CHECK(scalars == 26478627);
  CHECK(sd.front().first == "features.conv0.weight");
  CHECK(sd[1].first == "features.norm0.weight");
  CHECK(sd[6].first == "features.denseblock1.denselayer1.norm1.weight");
  CHECK(sd[sd.size() - 3].first == "features.norm5.num_batches_tracked");
  CHECK(sd[sd.size() - 2].first == "classifier.weight");
  CHECK(sd.back().first == "classifier.bias");
  std::map<std::string, Shape> shapes;
  for (const auto& [name, t] : sd) shapes[name] = t.shape();
  CHECK(shapes.at("features.conv0.weight") == Shape{96, 3, 7, 7});
  CHECK(shapes.at("features.denseblock3.denselayer36.conv1.weight") == Shape{192, 384 + 35 * 48, 1, 1});
  CHECK(shapes.at("features.denseblock4.denselayer24.conv2.weight") == Shape{48, 192, 3, 3});
  CHECK(shapes.at("features.transition3.conv.weight") == Shape{1056, 2112, 1, 1});
  CHECK(shapes.at("features.norm5.running_var") == Shape{2208});
  CHECK(shapes.at("classifier.weight") == Shape{3, 2208});
  // The blocks and transitions alternate, as in torchvision's Sequential.
  std::vector<std::string> stages;
  for (const auto& [name, t] : sd) {
    const std::string stage = name.substr(0, name.find('.', 9));
    if (stages.empty() || stages.back() != stage) stages.push_back(stage);
  }
  CHECK(stages == std::vector<std::string>{"features.conv0", "features.norm0", "features.denseblock1",
                                           "features.transition1", "features.denseblock2", "features.transition2",
                                           "features.denseblock3", "features.transition3", "features.denseblock4",
                                           "features.norm5", "classifier"});
}

TEST_CASE("initialisation has torchvision's distributions") {
  Generator gen(42);
  DenseNet net(models::densenet_config("densenet121", 1000), gen);
  std::vector<double> normalised;  // every conv weight divided by its kaiming std √(2/fan_in)
  for (const auto& [name, t] : net.state_dict()) {
    CAPTURE(name);
    const std::vector<double> v = t.to_vector<double>();
    if (name.find("conv") != std::string::npos) {
      const double expected = std::sqrt(2.0 / static_cast<double>(fan_in(t)));
      for (double x : v) normalised.push_back(x / expected);
      if (name == "features.conv0.weight") {  // 9408 draws: the std's standard error is 0.7%
        const Moments m = moments(v);
        CHECK(m.std == doctest::Approx(expected).epsilon(0.03));
        CHECK(std::abs(m.mean) < 0.05 * expected);
      }
    } else if ((name.find("norm") != std::string::npos && name.ends_with(".weight")) ||
               name.ends_with("running_var")) {
      CHECK(all_equal(v, 1.0));
    } else if (name == "classifier.weight") {
      const double bound = 1.0 / std::sqrt(1024.0);  // PyTorch's default Linear weight: U(±1/√fan_in)
      const Moments m = moments(v);
      CHECK(m.std == doctest::Approx(bound / std::sqrt(3.0)).epsilon(0.02));
      CHECK(m.kurtosis == doctest::Approx(1.8).epsilon(0.03));
      double largest = 0;
      for (double x : v) largest = std::max(largest, std::abs(x));
      CHECK(largest <= bound);
    } else if (!name.ends_with("num_batches_tracked")) {  // BN biases, running means, classifier bias
      CHECK(all_equal(v, 0.0));
    }
  }
  const Moments all = moments(normalised);  // about 7.0 million draws
  CHECK(std::abs(all.mean) < 0.002);
  CHECK(all.std == doctest::Approx(1.0).epsilon(0.002));
  CHECK(all.kurtosis == doctest::Approx(3.0).epsilon(0.01));  // normal, not the default's uniform
}

TEST_CASE("inference under NoGradGuard records nothing and needs a fraction of the graph's memory") {
  Generator gen(3);
  DenseNet net(models::densenet_config("densenet121", 1000), gen);
  const Tensor x = test::uniform_tensor({1, 3, 224, 224}, gen, -2, 2);
  Backend& cpu = backend_for(Device::CPU);

  // The peak above what is alive before the forward (the weights, the input), the output included.
  auto forward_peak = [&](bool training, bool graph, Tensor& out) {
    net.train(training);
    cpu.reset_peak_bytes();
    const std::size_t before = cpu.peak_bytes();
    if (graph) {
      out = net.forward(x);
    } else {
      NoGradGuard no_grad;
      out = net.forward(x);
    }
    return cpu.peak_bytes() - before;
  };

  Tensor inference;
  const std::size_t inference_peak = forward_peak(false, false, inference);
  CHECK(inference.shape() == Shape{1, 1000});
  CHECK_FALSE(inference.requires_grad());
  CHECK(inference.grad_fn() == nullptr);

  // Eval mode with a graph: the same logits, and the graph's memory.
  Tensor recorded;
  const std::size_t eval_graph_peak = forward_peak(false, true, recorded);
  CHECK(recorded.grad_fn() != nullptr);
  CHECK(test::max_abs_diff(recorded, inference) == 0.0);
  recorded = Tensor();

  std::size_t train_graph_peak = 0;
  {
    Tensor with_graph;
    train_graph_peak = forward_peak(true, true, with_graph);
    CHECK(with_graph.grad_fn() != nullptr);
  }
  MESSAGE("densenet121 1x3x224x224 forward peak: " << inference_peak / 1e6 << " MB under NoGradGuard, "
                                                 << eval_graph_peak / 1e6 << " MB keeping the graph in eval mode, "
                                                 << train_graph_peak / 1e6 << " MB in train mode");
  CHECK(inference_peak * 2 < eval_graph_peak);
  CHECK(inference_peak * 2 < train_graph_peak);
  // Only a stage or two is alive at a time (the stem's 64x112x112 maps, a 56x56 block's buffer,
  // its scratch and NCHW copy): about 12 MB measured, against the graph's 70 MB of activations.
  CHECK(inference_peak < 30'000'000);
}

TEST_CASE("eval inference runs the trunk over chunks of 4 images: the same features, a peak that does not grow with the batch") {
  Generator gen(5);
  DenseNetConfig config;
  config.growth_rate = 8;
  config.block_config = {2, 2};
  config.num_init_features = 16;
  models::DenseNetFeatures trunk(config, gen);
  Backend& cpu = backend_for(Device::CPU);
  const Tensor x = test::uniform_tensor({11, 3, 96, 96}, gen, -2, 2);  // chunks of 4, 4 and 3

  // The peak above what is alive before the forward, the output included.
  auto features = [&](const Tensor& images, bool training, bool graph, std::size_t* peak = nullptr) {
    trunk.train(training);
    cpu.reset_peak_bytes();
    const std::size_t before = cpu.peak_bytes();
    Tensor out;
    if (graph) {
      out = trunk.forward(images);
    } else {
      NoGradGuard no_grad;
      out = trunk.forward(images);
    }
    if (peak) *peak = cpu.peak_bytes() - before;
    return out;
  };

  std::size_t peak4 = 0, peak11 = 0;
  features(x.slice(0, 4), false, false, &peak4);
  const Tensor chunked = features(x, false, false, &peak11);
  const Tensor whole = features(x, false, true);  // a graph: one call over the 11 images
  CHECK(chunked.shape() == whole.shape());
  CHECK(test::max_abs_diff(chunked, whole) < 1e-5);
  // 11 images in chunks hold one chunk's activations and the growing output, not 11 images' maps.
  MESSAGE("trunk peak: " << peak4 / 1e6 << " MB at 4 images, " << peak11 / 1e6 << " MB at 11 in chunks");
  CHECK(peak11 < peak4 * 3 / 2);

  // Train-mode BatchNorm normalises with the statistics of the whole batch, so it is never chunked:
  // without a graph (a frozen backbone in training) it equals the one call with a graph.
  const Tensor train_no_graph = features(x, true, false);
  const Tensor train_graph = features(x, true, true);
  CHECK(test::max_abs_diff(train_no_graph, train_graph) < 1e-5);
  CHECK(test::max_abs_diff(train_no_graph, chunked) > 1e-3);
}

TEST_CASE("the seed's head: ReLU, 7x7 average, flatten; forward is the classifier over the global average") {
  Generator gen(4);
  DenseNet net(tiny_config(), gen);
  net.to(DType::f64);  // exact comparisons below
  net.eval();
  Tensor x = test::uniform_tensor({2, 3, 224, 224}, gen, -2, 2).to(DType::f64);
  NoGradGuard no_grad;
  const Tensor f = net.features(x);
  CHECK(f.shape() == Shape{2, net.trunk.num_features, 7, 7});
  CHECK(net.trunk.num_features == 4);  // 4 -> 6, /2 -> 3 -> 5, /2 -> 2 -> 4, /2 -> 2 -> 4
  const Tensor g = net.global_features(x);
  CHECK(g.shape() == Shape{2, net.trunk.num_features});
  const Tensor expected = ops::mean(ops::relu(f).reshape({2, net.trunk.num_features, 49}), 2);
  CHECK(test::max_abs_diff(g, expected) < 1e-14);
  const Tensor logits = net.forward(x);
  CHECK(logits.shape() == Shape{2, 3});
  CHECK(test::max_abs_diff(logits, net.classifier.forward(g)) < 1e-14);

  const Tensor f8 = Tensor::zeros({2, 6, 8, 8});
  test::expect_error_naming("not 7x7", {"7x7", "224x224", "[2, 6, 8, 8]"}, [&] { models::seed_global_pool(f8); });
}

TEST_CASE("errors name what is wrong") {
  Generator gen(5);
  DenseNetConfig config = tiny_config(2);
  config.drop_rate = 0.2;
  DenseNet net(config, gen);
  test::expect_error_naming("grey image", {"DenseNet", "[N, 3, H, W]", "[2, 1, 32, 32]"},
                            [&] { net.forward(Tensor::zeros({2, 1, 32, 32})); });
  const Tensor x = test::uniform_tensor({2, 3, 32, 32}, gen);
  test::expect_error_naming("dropout without a generator", {"drop_rate", "generator"}, [&] { net.forward(x); });

  // Dropout draws from the generator it is given: the same seed drops the same features, and eval
  // mode draws nothing.
  Generator a(9), b(9), c(10);
  const Tensor ya = net.forward(x, &a), yb = net.forward(x, &b), yc = net.forward(x, &c);
  CHECK(test::max_abs_diff(ya, yb) == 0.0);
  CHECK(test::max_abs_diff(ya, yc) > 0.0);
  net.eval();
  CHECK(test::max_abs_diff(net.forward(x), net.forward(x, &c)) == 0.0);
}
