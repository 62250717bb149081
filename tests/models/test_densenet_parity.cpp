// The DenseNet family against torchvision 0.14 (Debian's python3-torchvision; the PyTorch side is
// densenet_reference.py): every preset's state-dict layout; a full-size densenet161 moved over
// through checkpoint files as torchvision writes them (zip, legacy, torchvision <= 0.2.1 names)
// giving the same features, seed head and logits; wrong architectures refused; and a small
// DenseNet's training steps (loss, every gradient, the updated weights and BatchNorm statistics).
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <memory>

#include "core/autograd.h"
#include "core/ops.h"
#include "layers/cross_entropy.h"
#include "models/checkpoint.h"
#include "models/densenet.h"
#include "tests/support/tensors.h"
#include "tests/support/torch_ref.h"

using namespace gler;
using models::DenseNet;
using models::DenseNetConfig;

namespace {

std::string run_reference(const std::string& call) {
  return "exec(open('" GLER_SOURCE_DIR "/tests/models/densenet_reference.py').read())\n" + call + "\n";
}

// As densenet_reference.py writes shapes: "d0,d1,...", "-" for a 0-d tensor.
std::string dims(const Shape& s) {
  std::string out;
  for (int i = 0; i < s.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(s[i]);
  }
  return out.empty() ? "-" : out;
}

// The torchvision side of the densenet161 cases, run once: checkpoint files in ref.dir() and the
// reference outputs on `x`, a batch of two 224x224 images.
struct Imagenet {
  test::TorchRef ref;
  Tensor x = test::uniform_tensor({2, 3, 224, 224}, 161, -2, 2);
  Imagenet() {
    ref.put("x", x);
    ref.run(run_reference("imagenet_checkpoints(_DIR)"));
  }
  std::string file(const std::string& name) const { return ref.dir() + "/" + name; }
};
const Imagenet& imagenet() {
  static const Imagenet instance;
  return instance;
}

// The densenet121 and densenet161 shared by the cases below (building one draws every weight twice).
DenseNet& shared_net(const std::string& arch) {
  static std::map<std::string, std::unique_ptr<DenseNet>> nets;
  std::unique_ptr<DenseNet>& net = nets[arch];
  if (!net) {
    Generator gen(0);
    net = std::make_unique<DenseNet>(models::densenet_config(arch), gen);
  }
  return *net;
}
DenseNet& densenet161() { return shared_net("densenet161"); }

NamedTensors snapshot(const Module& m) {
  NamedTensors out;
  for (const auto& [name, t] : m.state_dict()) out.emplace_back(name, t.clone());
  return out;
}

// Every tensor of m equals the snapshot's exactly (the same bytes were loaded).
void check_identical(const Module& m, const NamedTensors& expected) {
  const NamedTensors sd = m.state_dict();
  REQUIRE(sd.size() == expected.size());
  int differing = 0;
  for (std::size_t i = 0; i < sd.size(); ++i)
    if (sd[i].first != expected[i].first || test::max_abs_diff(sd[i].second, expected[i].second) != 0.0) {
      if (differing++ < 5) MESSAGE("differs: " << sd[i].first);
    }
  CHECK(differing == 0);
}

void scramble(const Module& m) {
  for (const auto& [name, t] : m.state_dict()) t.fill_(0.0);
}

}  // namespace

TEST_CASE("every preset's state dict is torchvision's, key for key, in order, with its shapes") {
  test::TorchRef ref;
  ref.run(run_reference("write_state_dict_layouts(_DIR + '/layouts.txt')"));
  std::map<std::string, std::vector<std::string>> theirs;
  std::ifstream in(ref.dir() + "/layouts.txt");
  for (std::string arch, name, shape; in >> arch >> name >> shape;) theirs[arch].push_back(name + " " + shape);
  REQUIRE(theirs.size() == models::densenet_archs().size());
  for (const std::string& arch : models::densenet_archs()) {
    CAPTURE(arch);
    std::unique_ptr<DenseNet> own;
    if (arch != "densenet121" && arch != "densenet161") {
      Generator gen(1);
      own = std::make_unique<DenseNet>(models::densenet_config(arch), gen);
    }
    std::vector<std::string> mine;
    for (const auto& [name, t] : (own ? *own : shared_net(arch)).state_dict())
      mine.push_back(name + " " + dims(t.shape()));
    CHECK(mine == theirs[arch]);
  }
}

TEST_CASE("densenet161 from a torchvision zip checkpoint: eval features, seed head and logits match torchvision") {
  const Imagenet& ref = imagenet();
  DenseNet& net = densenet161();
  models::load_weights(net, ref.file("densenet161-zip.pth"));
  net.eval();
  NoGradGuard no_grad;
  const Tensor features = net.features(ref.x);
  CHECK(features.shape() == Shape{2, 2208, 7, 7});
  const double d_features = test::max_rel_diff(features, ref.ref.get("features"));
  const double d_global = test::max_rel_diff(models::seed_global_pool(features), ref.ref.get("global"));
  const Tensor logits = net.forward(ref.x);
  CHECK(logits.shape() == Shape{2, 1000});
  const double d_logits = test::max_rel_diff(logits, ref.ref.get("logits"));
  MESSAGE("densenet161 vs torchvision, max relative difference: features " << d_features << ", seed head "
                                                                          << d_global << ", logits " << d_logits);
  // PyTorch's own f32 features are 4.5e-5 from its f64 ones for this net and input (measured once):
  // 1e-4 is close to the f32 floor. Exactness (f64) is the training case below.
  CHECK(d_features < 1e-4);
  CHECK(d_global < 1e-4);
  CHECK(d_logits < 1e-4);
}

TEST_CASE("legacy and torchvision <= 0.2.1 checkpoints load the same tensors") {
  const Imagenet& ref = imagenet();
  DenseNet& net = densenet161();
  models::load_weights(net, ref.file("densenet161-zip.pth"));
  const NamedTensors expected = snapshot(net);
  CHECK(net.trunk.norm5.num_batches_tracked.item() == 7);
  for (const char* file : {"densenet161-legacy.pth", "densenet161-oldnames.pth"}) {
    CAPTURE(file);
    scramble(net);
    models::load_weights(net, ref.file(file));
    check_identical(net, expected);
  }
}

// PyTorch 0.4.0 wrote no num_batches_tracked (SEED_SPEC §6.1: "accept both"); torch itself loads
// such a file, leaving the count at 0. This depends on models::load_weights accepting it.
TEST_CASE("a checkpoint without num_batches_tracked (PyTorch 0.4.0) loads") {
  const Imagenet& ref = imagenet();
  DenseNet& net = densenet161();
  models::load_weights(net, ref.file("densenet161-zip.pth"));
  const NamedTensors expected = snapshot(net);
  scramble(net);
  const std::string message =
      test::error_message([&] { models::load_weights(net, ref.file("densenet161-0.4.0.pth")); });
  CHECK_MESSAGE(message.empty(), message.substr(0, 300));
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& [name, t] = expected[i];
    if (name.ends_with("num_batches_tracked")) continue;
    CAPTURE(name);
    CHECK(test::max_abs_diff(net.state_dict()[i].second, t) == 0.0);
  }
}

TEST_CASE("checkpoints of other architectures are refused with every missing, unexpected and mis-shaped tensor") {
  const Imagenet& ref = imagenet();
  const std::string d121 = ref.file("densenet121.pth"), d161 = ref.file("densenet161-zip.pth");
  test::expect_error_naming("densenet121 into densenet161",
                            {"densenet121.pth", "missing features.denseblock3.denselayer36.conv2.weight",
                             "features.conv0.weight has shape [64, 3, 7, 7], expected [96, 3, 7, 7]",
                             "classifier.weight has shape [1000, 1024], expected [1000, 2208]"},
                            [&] { models::load_weights(densenet161(), d121); });
  const DenseNet& d121_net = shared_net("densenet121");
  test::expect_error_naming("densenet161 into densenet121",
                            {"unexpected features.denseblock3.denselayer25.norm1.weight",
                             "features.denseblock1.denselayer1.conv1.weight has shape [192, 96, 1, 1], expected "
                             "[128, 64, 1, 1]"},
                            [&] { models::load_weights(d121_net, d161); });
  test::expect_error_naming("sphere20a-like into densenet161",
                            {"sphere20a-like.pth", "unexpected conv1_1.weight", "unexpected fc6.bias",
                             "missing features.conv0.weight", "missing classifier.bias"},
                            [&] { models::load_weights(densenet161(), ref.file("sphere20a-like.pth")); });
}

TEST_CASE("a small DenseNet's training steps match torchvision: loss, gradients, SGD update, BatchNorm statistics") {
  // The same weights and inputs in f64 and f32 (the f64 run's are the f32 values widened), so
  // PyTorch's f64 run is the exact answer for both; the bounds are explained where checked.
  const DenseNetConfig config{.growth_rate = 4, .block_config = {2, 2}, .num_init_features = 8, .bn_size = 2,
                              .num_classes = 3};
  const char* torch_config = "dict(growth_rate=4, block_config=(2, 2), num_init_features=8, bn_size=2, num_classes=3)";
  const int steps = 2;
  const double lr = 0.1;
  test::TorchRef ref;
  std::string script;
  struct Run {
    std::string prefix;
    std::unique_ptr<DenseNet> net;
    std::vector<std::pair<std::string, Tensor>> mine;
  };
  std::vector<Run> runs;
  for (DType dtype : {DType::f64, DType::f32}) {
    Run& run = runs.emplace_back(Run{std::string(dtype_name(dtype)), nullptr, {}});
    Generator gen(11);
    run.net = std::make_unique<DenseNet>(config, gen);
    DenseNet& net = *run.net;
    // Non-trivial BatchNorm affine parameters; the convs keep torchvision's kaiming init.
    for (const auto& [name, p] : net.named_parameters()) {
      if (name.find("norm") == std::string::npos) continue;
      if (name.ends_with(".weight"))
        uniform_(p, 0.5, 1.5, gen);
      else
        uniform_(p, -0.3, 0.3, gen);
    }
    net.to(dtype);
    std::string keys;
    for (const auto& [name, t] : net.state_dict()) {
      ref.put(run.prefix + ".sd." + name, t);
      keys += "'" + name + "',";
    }
    net.train();
    for (int s = 0; s < steps; ++s) {
      const std::string tag = std::to_string(s);
      const Tensor x = test::uniform_tensor({3, 3, 32, 32}, gen, -2, 2).to(dtype);
      const Tensor labels = Tensor::from_vector<std::int64_t>({2, 0, s == 0 ? 1 : 2}, {3});
      ref.put(run.prefix + ".x" + tag, x);
      ref.put(run.prefix + ".labels" + tag, labels);
      net.zero_grad();
      const Tensor logits = net.forward(x);
      const Tensor loss = layers::cross_entropy(logits, labels);
      backward(loss);
      run.mine.emplace_back(".logits" + tag, logits.detach());
      run.mine.emplace_back(".loss" + tag, loss.detach());
      for (const auto& [name, p] : net.named_parameters())
        run.mine.emplace_back(".grad" + tag + "." + name, p.grad().clone());
      NoGradGuard no_grad;
      for (const Tensor& p : net.parameters()) p.copy_(ops::sub(p, ops::scale(p.grad(), lr)));
    }
    for (const auto& [name, t] : net.state_dict()) run.mine.emplace_back(".after." + name, t.clone());
    script += "training_steps('" + run.prefix + "', " + (dtype == DType::f64 ? "torch.float64" : "torch.float32") +
              ", [" + keys + "], " + torch_config + ", " + std::to_string(steps) + ", " + std::to_string(lr) + ")\n";
  }
  ref.run(run_reference(script));
  // f64: the same function, term for term. f32: these gradients cannot agree to 1e-4 — PyTorch's
  // own f32 gradient of norm0.weight is up to 1.5e-2 away from its f64 one here (the train-mode
  // BatchNorms downstream make the loss nearly invariant to norm0's scale, so that gradient is a
  // cancellation), and our convolutions round in another order. Both f32 runs are therefore held
  // against PyTorch's f64 result on the same (widened) inputs: ours must be within 1e-4 of it, or
  // within 4x PyTorch's own f32 error where that is larger.
  const Run& f64 = runs[0];
  const Run& f32 = runs[1];
  double worst64 = 0, worst32 = 0, worst_direct = 0;
  std::string worst64_key, worst32_key;
  for (std::size_t i = 0; i < f64.mine.size(); ++i) {
    const std::string& what = f64.mine[i].first;
    CAPTURE(what);
    REQUIRE(f32.mine[i].first == what);
    const Tensor truth = ref.get("f64" + what), theirs32 = ref.get("f32" + what);
    const Tensor &mine64 = f64.mine[i].second, &mine32 = f32.mine[i].second;
    REQUIRE(mine64.shape() == truth.shape());
    REQUIRE(mine32.shape() == truth.shape());
    if (mine64.dtype() == DType::i64) {  // num_batches_tracked
      CHECK(mine64.item() == truth.item());
      CHECK(mine32.item() == truth.item());
      continue;
    }
    const double d64 = test::max_rel_diff(mine64, truth);
    const double ours = test::max_rel_diff(mine32, truth), torch_own = test::max_rel_diff(theirs32, truth);
    CHECK(d64 < 1e-10);
    CHECK(ours < std::max(1e-4, 4 * torch_own));
    if (ours > 1e-4) MESSAGE("f32" << what << ": ours " << ours << " from PyTorch f64, PyTorch f32 " << torch_own);
    if (d64 > worst64) worst64 = d64, worst64_key = what;
    if (ours > worst32) worst32 = ours, worst32_key = what;
    worst_direct = std::max(worst_direct, test::max_rel_diff(mine32, theirs32));
  }
  MESSAGE("largest relative difference to PyTorch f64: ours f64 " << worst64 << " (" << worst64_key << "), ours f32 "
                                                                  << worst32 << " (" << worst32_key
                                                                  << "); ours f32 to PyTorch f32 " << worst_direct);
}
