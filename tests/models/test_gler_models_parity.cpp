// The GLER models against the seed's, written in PyTorch from SEED_SPEC §4 (tests/models/seed_models.py):
// every arch (global; local with a linear and an L-Softmax fc6; average; attention A, B, C; B and C
// EmotiC), in seed mode and, where the forward differs (A, B), in corrected mode too; C's forward
// is the same in both (only its gradients differ), so C runs seed and C EmotiC corrected. Each C++ model is made
// by make_model; its state dict, with non-trivial BatchNorm statistics, is loaded strictly into the
// PyTorch model; both run in eval mode on the same batch: three images with 0, 3 and F real faces,
// F = 15 and, for two cases, F = 6 (no weight depends on F; the seed's A/B reshape does). Logits
// and attention weights must agree within 1e-4 (test::max_rel_diff).
//
// Time: full-size models are needed (the seed's head pools a fixed 7x7 map, so DenseNet-161 runs
// at 224x224). All cases share one DenseNet-161 and one sphere20a trunk, shipped to Python once,
// and Python runs every case in one process.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "models/gler/gler_model.h"
#include "tests/support/tensors.h"
#include "tests/support/torch_ref.h"
#include "tests/models/gler_test_models.h"

using namespace gler;
using models::ModelInfo;

namespace {

using test::info_of;
using test::tiny_shapes;

struct Case {
  std::string tag;
  ModelInfo info;
};

// The key a backbone tensor is shared under ("dn." DenseNet-161 trunk, "sp." sphere20a through fc5),
// or "" for a tensor of the model's own head.
std::string shared_key(const std::string& name) {
  auto after = [&](const std::string& prefix) { return name.substr(prefix.size()); };
  if (name.starts_with("global_model.classifier.")) return "";
  if (name.starts_with("global_model.features.")) return "dn." + after("global_model.features.");
  if (name.starts_with("global_model.")) return "dn." + after("global_model.");
  if (name.starts_with("features.")) return "dn." + after("features.");
  const std::string sphere = name.starts_with("align_model.") ? after("align_model.") : name;
  if (sphere.starts_with("conv") || sphere.starts_with("relu") || sphere.starts_with("fc5.")) return "sp." + sphere;
  return "";
}

// Statistics and affine terms away from PyTorch's defaults, so eval-mode BatchNorm is not an identity.
void randomize_batch_norm(const std::string& name, const Tensor& t, Generator& gen) {
  const bool bn = name.find("norm") != std::string::npos || name.starts_with("bn_");
  if (!bn || name.ends_with("num_batches_tracked")) return;
  if (name.ends_with("running_var") || name.ends_with(".weight"))
    uniform_(t, 0.5, 1.5, gen);
  else
    uniform_(t, -0.3, 0.3, gen);
}

std::string python_str(const std::string& s) { return "'" + s + "'"; }

}  // namespace

TEST_CASE("every GLER model matches the seed's PyTorch model: logits and attention weights, seed and corrected") {
  const std::vector<Case> cases{
      {"global", info_of("global", true)},
      {"local_linear", info_of("local", true)},
      {"local_lsoftmax", info_of("local", false, false, "lsoftmax")},
      {"average", info_of("average", true)},
      {"a_seed", info_of("attention_a", true)},
      {"a_fixed", info_of("attention_a", false)},
      {"b_seed", info_of("attention_b", true)},
      {"b_fixed", info_of("attention_b", false)},
      {"c_seed", info_of("attention_c", true)},
      {"b_emotic_seed", info_of("attention_b", true, true)},
      {"c_emotic_fixed", info_of("attention_c", false, true)},
      {"a_seed_f6", info_of("attention_a", true, false, "linear", 6)},
      {"local_linear_f6", info_of("local", true, false, "linear", 6)},
  };
  const auto start = std::chrono::steady_clock::now();
  test::TorchRef ref;
  Generator data(13);
  const std::int64_t batch = 3;
  const Tensor images = test::uniform_tensor({batch, 3, 224, 224}, data, -2, 2);
  ref.put("images", images);
  // Per slot count F and layout: faces (real slots random, empty ones zero), counts 0, 3, F, O-Net features.
  std::map<std::string, models::GlerInput> inputs;
  for (int slots : {15, 6})
    for (bool seed : {true, false}) {
      const std::int64_t h = seed ? 96 : 112, w = seed ? 112 : 96;
      const std::vector<std::int64_t> n{0, 3, slots};
      models::GlerInput in;
      in.images = images;
      in.faces = Tensor::zeros({batch, slots, 3, h, w});
      in.face_features = Tensor::zeros({batch, slots, 256});
      for (std::int64_t b = 0; b < batch; ++b) {
        const auto count = n[static_cast<std::size_t>(b)];
        if (count == 0) continue;
        in.faces.slice(b, b + 1)
            .reshape({slots, 3, h, w})
            .slice(0, count)
            .copy_(test::uniform_tensor({count, 3, h, w}, data, seed ? 0.0 : -1.0, 1.0));
        in.face_features.slice(b, b + 1)
            .reshape({slots, 256})
            .slice(0, count)
            .copy_(test::uniform_tensor({count, 256}, data, 0.0, 1.0));
      }
      in.face_counts = Tensor::from_vector(n, {batch});
      const std::string key = std::to_string(slots) + (seed ? ".seed" : ".fixed");
      ref.put("faces." + key, in.faces);
      ref.put("features." + key, in.face_features);
      ref.put("counts." + key, in.face_counts);
      inputs[key] = in;
    }

  std::map<std::string, Tensor> shared;
  std::map<std::string, models::GlerOutput> ours;
  std::string script = std::string("import sys\nsys.path.insert(0, '") + GLER_SOURCE_DIR +
                       "/tests/models')\nimport seed_models\n_cache = {}\n"
                       "def cached(name):\n"
                       "    if name not in _cache:\n"
                       "        _cache[name] = load(name)\n"
                       "    return _cache[name]\n";
  double build_s = 0, forward_s = 0;
  for (const Case& c : cases) {
    Generator gen(2018);
    auto t0 = std::chrono::steady_clock::now();
    std::unique_ptr<models::GlerModel> model = models::make_model(c.info, gen);
    build_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::string sources = "{";
    for (const auto& [name, t] : model->state_dict()) {
      const std::string key = shared_key(name);
      std::string source = key;
      if (key.empty()) {
        randomize_batch_norm(name, t, gen);
        source = c.tag + "." + name;
        ref.put(source, t);
      } else if (const auto it = shared.find(key); it != shared.end()) {
        t.copy_(it->second);
      } else {
        randomize_batch_norm(name, t, gen);
        shared.emplace(key, t.clone());
        ref.put(key, t);
      }
      sources += python_str(name) + ": " + python_str(source) + ", ";
    }
    sources += "}";
    model->eval();
    const std::string key = std::to_string(c.info.max_faces) + (c.info.seed_compat ? ".seed" : ".fixed");
    t0 = std::chrono::steady_clock::now();
    {
      NoGradGuard no_grad;
      ours[c.tag] = model->forward(inputs.at(key));
    }
    forward_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    script += "m = seed_models.build(" + python_str(c.info.arch) +
              ", seed_compat=" + (c.info.seed_compat ? "True" : "False") +
              ", emotic=" + (c.info.emotic ? "True" : "False") + ", local_head=" + python_str(c.info.local_head) +
              ")\n";
    script += "target = m.align_model if isinstance(m, seed_models.FaceAttentionLocal) else m\n";
    script += "target.load_state_dict({k: cached(v) for k, v in " + sources + ".items()}, strict=True)\n";
    script += "m.eval()\nwith torch.no_grad():\n";
    script += "    logits, att = seed_models.run(m, images=cached('images'), faces=load('faces." + key +
              "'), counts=load('counts." + key + "').tolist(), face_features=load('features." + key + "'))\n";
    script += "save('" + c.tag + ".logits', logits)\n";
    script += "if att is not None:\n    save('" + c.tag + ".attention', att)\ndel m, target\n";
  }
  const auto t0 = std::chrono::steady_clock::now();
  ref.run(script);
  const double torch_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  for (const Case& c : cases) {
    CAPTURE(c.tag);
    const models::GlerOutput& out = ours.at(c.tag);
    const Tensor logits = ref.get(c.tag + ".logits");
    REQUIRE(out.logits.shape() == logits.shape());
    const double d_logits = test::max_rel_diff(out.logits, logits);
    CHECK(d_logits < 1e-4);
    double d_attention = 0;
    if (c.info.is_attention()) {
      const Tensor attention = ref.get(c.tag + ".attention");
      REQUIRE(out.attention.shape() == attention.shape());
      d_attention = test::max_rel_diff(out.attention, attention);
      CHECK(d_attention < 1e-4);
    } else {
      CHECK_FALSE(out.attention.defined());
    }
    std::printf("%-16s logits %.2e  attention %.2e\n", c.tag.c_str(), d_logits, d_attention);
  }
  const double total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("time: make_model %.1f s, our forwards %.1f s, PyTorch %.1f s, total %.1f s\n", build_s, forward_s,
              torch_s, total_s);
}
