// The GLER models without PyTorch: ModelInfo and its metadata; every arch's state dict against the
// seed's key listing (data/seed/state_dict_keys.txt) and against what gler_import accepts; images
// without faces; local's per-face logits; input checks; the one batched sphere call; what
// seed_compat changes; dropout in training; load_model. Most cases use tiny backbones (ModelShapes)
// in f64, so they run in moments.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/ops.h"
#include "models/checkpoint.h"
#include "models/gler/face_slots.h"
#include "models/gler/gler_model.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tensors.h"
#include "tests/support/torch_ref.h"
#include "weights_import/arch_specs.h"
#include "tests/models/gler_test_models.h"
#include "tests/models/state_dict_listing.h"

using namespace gler;
using models::GlerInput;
using models::GlerModel;
using models::GlerOutput;
using models::ModelInfo;
using models::ModelShapes;

namespace {

using test::info_of;
using test::tiny_shapes;

// Every model the paper has, in seed mode.
std::vector<ModelInfo> every_model(bool seed_compat) {
  return {info_of("global", seed_compat),
          info_of("local", seed_compat),
          info_of("local", seed_compat, false, "lsoftmax"),
          info_of("average", seed_compat),
          info_of("attention_a", seed_compat),
          info_of("attention_b", seed_compat),
          info_of("attention_b", seed_compat, true),
          info_of("attention_c", seed_compat),
          info_of("attention_c", seed_compat, true)};
}

std::string label(const ModelInfo& info) {
  return info.arch + (info.emotic ? " emotic" : "") + (info.arch == "local" ? " " + info.local_head : "") +
         (info.seed_compat ? " seed" : " corrected");
}

void randomize_batch_norm(const Module& m, Generator& gen) {
  for (const auto& [name, t] : m.state_dict()) {
    const bool bn = name.find("norm") != std::string::npos || name.starts_with("bn_");
    if (!bn || name.ends_with("num_batches_tracked")) continue;
    if (name.ends_with("running_var") || name.ends_with(".weight"))
      uniform_(t, 0.5, 1.5, gen);
    else
      uniform_(t, -0.3, 0.3, gen);
  }
}

std::unique_ptr<GlerModel> tiny_model(const ModelInfo& info, const ModelShapes& shapes = tiny_shapes()) {
  Generator gen(5);
  std::unique_ptr<GlerModel> m = models::make_model(info, gen, shapes);
  randomize_batch_norm(*m, gen);
  m->to(DType::f64);
  m->eval();
  return m;
}

// Images, faces (zero past each count) and O-Net features for `counts`, F slots, in f64.
GlerInput tiny_input(const ModelInfo& info, const ModelShapes& s, const std::vector<std::int64_t>& counts,
                     std::int64_t slots, std::uint64_t seed = 21) {
  Generator data(seed);
  const auto batch = static_cast<std::int64_t>(counts.size());
  const std::int64_t h = s.face_height(info.seed_compat), w = s.face_width(info.seed_compat);
  GlerInput in;
  in.images = test::uniform_tensor({batch, 3, s.image_size, s.image_size}, data, -2, 2).to(DType::f64);
  in.faces = Tensor::zeros({batch, slots, 3, h, w}, DType::f64);
  in.face_features = Tensor::zeros({batch, slots, s.onet_dim}, DType::f64);
  for (std::int64_t b = 0; b < batch; ++b) {
    const std::int64_t n = counts[static_cast<std::size_t>(b)];
    if (n == 0) continue;
    in.faces.slice(b, b + 1)
        .reshape({slots, 3, h, w})
        .slice(0, n)
        .copy_(test::uniform_tensor({n, 3, h, w}, data, 0, 1));
    in.face_features.slice(b, b + 1)
        .reshape({slots, s.onet_dim})
        .slice(0, n)
        .copy_(test::uniform_tensor({n, s.onet_dim}, data, 0, 1));
  }
  in.face_counts = Tensor::from_vector(counts, {batch});
  return in;
}

bool all_finite(const Tensor& t) {
  for (double v : t.to_vector<double>())
    if (!std::isfinite(v)) return false;
  return true;
}

// The seed listing's section as "name (d0, d1, ...)" lines with today's names: no DataParallel
// prefix, torchvision's norm1/conv1 for 0.2.1's norm.1/conv.1.
std::vector<std::string> seed_listing(const std::string& section) {
  std::ifstream in(std::string(GLER_SOURCE_DIR) + "/data/seed/state_dict_keys.txt");
  REQUIRE(in.good());
  static const std::regex old_layer_names(R"((denselayer\d+\.)(norm|conv)\.([12])\.)");
  std::vector<std::string> out;
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("### ")) {
      inside = line.starts_with("### " + section + ":");
      continue;
    }
    if (!inside || line.empty()) continue;
    for (const char* prefix : {"[module.]", "module."})
      if (line.starts_with(prefix)) line = line.substr(std::string(prefix).size());
    out.push_back(std::regex_replace(line, old_layer_names, "$1$2$3."));
  }
  return out;
}


std::int64_t parameter_count(const Module& m) {
  std::int64_t n = 0;
  for (const Tensor& p : m.parameters()) n += p.numel();
  return n;
}

// The model's names and shapes, as gler_import's reader would hand them over (no data needed).
wi::StateDict as_import(const Module& m) {
  wi::StateDict sd;
  for (const auto& [name, t] : m.state_dict())
    sd.add(name, wi::TensorData{t.dtype() == DType::i64 ? "I64" : "F32", t.shape().to_vector(), {}});
  return sd;
}

}  // namespace

TEST_CASE("ModelInfo: metadata round trip for every model, defaults for missing keys") {
  for (bool seed : {true, false})
    for (ModelInfo info : every_model(seed)) {
      CAPTURE(label(info));
      info.max_faces = 7;
      const ModelInfo back = ModelInfo::from_metadata(info.to_metadata());
      CHECK(back.arch == info.arch);
      CHECK(back.seed_compat == info.seed_compat);
      CHECK(back.emotic == info.emotic);
      CHECK(back.local_head == info.local_head);
      CHECK(back.max_faces == 7);
    }
  const ModelInfo defaults = ModelInfo::from_metadata({{"arch", "attention_c"}, {"num_classes", "3"}});
  CHECK(defaults.arch == "attention_c");
  CHECK_FALSE(defaults.seed_compat);
  CHECK_FALSE(defaults.emotic);
  CHECK(defaults.max_faces == 15);
  CHECK(models::gler_archs().size() == 6);
}

TEST_CASE("ModelInfo: bad metadata and other kinds of file are refused, naming what is wrong") {
  using Meta = std::map<std::string, std::string>;
  auto from = [](const Meta& m) { return [m] { ModelInfo::from_metadata(m); }; };
  test::expect_error_naming("a DenseNet", {"densenet161", "image backbone", "gler_infer needs one of", "attention_c"},
                            from({{"arch", "densenet161"}}));
  test::expect_error_naming("MTCNN", {"mtcnn", "MTCNN face detector"}, from({{"arch", "mtcnn"}}));
  test::expect_error_naming("sphere20a", {"sphere20a", "face backbone"}, from({{"arch", "sphere20a"}}));
  test::expect_error_naming("unknown", {"'resnet'", "unknown arch"}, from({{"arch", "resnet"}}));
  test::expect_error_naming("seed_compat", {"seed_compat", "'yes'"},
                            from({{"arch", "global"}, {"seed_compat", "yes"}}));
  test::expect_error_naming("max_faces 0", {"max_faces", "at least 1"}, from({{"arch", "local"}, {"max_faces", "0"}}));
  test::expect_error_naming("max_faces text", {"max_faces", "'many'"},
                            from({{"arch", "local"}, {"max_faces", "many"}}));
  test::expect_error_naming("emotic A", {"emotic", "attention_a"}, from({{"arch", "attention_a"}, {"emotic", "1"}}));
  test::expect_error_naming("fc6", {"fc6", "'angle'"}, from({{"arch", "local"}, {"fc6", "angle"}}));
  Generator gen(0);
  test::expect_error_naming("make_model", {"'local2'"}, [&] { models::make_model(info_of("local2", true), gen); });
}

TEST_CASE("state dicts: the seed's keys, order and shapes (SEED_SPEC §6.2), parameter totals, gler_import's checks") {
  struct Expect {
    ModelInfo info;
    const char* section;
    std::int64_t parameters;
  };
  const Expect expected[] = {
      {info_of("global", true), "Global_Simple", 26478627},
      {info_of("local", true), "Local", 22672195},
      {info_of("local", true, false, "lsoftmax"), "Base for LSoftmax", 22672192},
      {info_of("average", true), "Average", 26479395},
      {info_of("attention_a", true), "Attention_A", 49841027},
      {info_of("attention_b", true), "Attention_B", 49758403},
      {info_of("attention_b", true, true), "Attention_B_EmotiC", 49758403},
      {info_of("attention_c", true), "Attention_C (and 4para_adam)", 49857540},
      {info_of("attention_c", true, true), "Attention_C_EmotiC (and 4para_lr01_..._EmotiC)", 49857540},
  };
  for (const Expect& e : expected) {
    CAPTURE(label(e.info));
    Generator gen(1);
    const std::unique_ptr<GlerModel> m = models::make_model(e.info, gen);
    const std::vector<std::string> theirs = seed_listing(e.section);
    REQUIRE(!theirs.empty());
    CHECK(test::state_dict_listing(*m) == theirs);
    CHECK(parameter_count(*m) == e.parameters);
    // gler_import accepts these names and shapes for the arch, and its metadata names this model.
    wi::StateDict sd = as_import(*m);
    wi::conform_to_arch(sd, e.info.arch);
    const ModelInfo imported = ModelInfo::from_metadata(sd.metadata);
    CHECK(imported.emotic == e.info.emotic);
    CHECK(imported.local_head == e.info.local_head);
    CHECK(imported.max_faces == 15);
  }
}

TEST_CASE("images without faces: finite outputs and gradients, zero attention, zero local logits") {
  const ModelShapes shapes = tiny_shapes();
  for (bool seed : {true, false})
    for (const ModelInfo& info : every_model(seed))
      for (const std::vector<std::int64_t>& counts : {std::vector<std::int64_t>{0, 2, 0}, {0, 0}}) {
        CAPTURE(label(info));
        CAPTURE(counts.size());
        const std::unique_ptr<GlerModel> m = tiny_model(info);
        const GlerInput in = tiny_input(info, shapes, counts, 3);
        for (bool training : {false, true}) {
          CAPTURE(training);
          m->train(training);
          m->zero_grad();
          Generator gen(3);
          const GlerOutput out = m->forward(in, &gen);
          REQUIRE(out.logits.shape() == Shape{static_cast<std::int64_t>(counts.size()), 3});
          CHECK(all_finite(out.logits));
          backward(ops::sum_all(out.logits));
          for (const auto& [name, p] : m->named_parameters())
            if (p.grad().defined()) {
              CAPTURE(name);
              CHECK(all_finite(p.grad()));
            }
          const std::vector<double> logits = out.logits.to_vector<double>();
          if (info.arch == "local" && !training)
            for (std::size_t b = 0; b < counts.size(); ++b)
              if (counts[b] == 0)
                for (int k = 0; k < 3; ++k) CHECK(logits[b * 3 + static_cast<std::size_t>(k)] == 0.0);
          if (!info.is_attention()) {
            CHECK_FALSE(out.attention.defined());
            continue;
          }
          REQUIRE(out.attention.shape() == Shape{static_cast<std::int64_t>(counts.size()), 3});
          const std::vector<double> w = out.attention.to_vector<double>();
          for (std::size_t b = 0; b < counts.size(); ++b) {
            double sum = 0;
            for (std::size_t j = 0; j < 3; ++j) {
              const double v = w[b * 3 + j];
              if (static_cast<std::int64_t>(j) >= counts[b]) CHECK(v == 0.0);
              sum += v;
            }
            CHECK(sum == doctest::Approx(counts[b] == 0 ? 0.0 : 1.0));
          }
        }
      }
}

TEST_CASE("local: face_logits are every slot's fc6 logits, the logits their mean over the real faces") {
  const ModelShapes shapes = tiny_shapes();
  const std::vector<std::int64_t> counts{0, 2, 3};
  for (bool seed : {true, false})
    for (const ModelInfo& info : every_model(seed)) {
      CAPTURE(label(info));
      const std::unique_ptr<GlerModel> m = tiny_model(info);
      NoGradGuard no_grad;
      const GlerOutput out = m->forward(tiny_input(info, shapes, counts, 3));
      if (info.arch != "local") {
        CHECK_FALSE(out.face_logits.defined());
        continue;
      }
      REQUIRE(out.face_logits.shape() == Shape{3, 3, 3});
      const std::vector<double> faces = out.face_logits.to_vector<double>(), logits = out.logits.to_vector<double>();
      const std::vector<double> blank(faces.begin(), faces.begin() + 3);  // image 0, slot 0: empty
      for (std::size_t b = 0; b < counts.size(); ++b)
        for (std::size_t k = 0; k < 3; ++k) {
          double sum = 0;
          for (std::size_t j = 0; j < 3; ++j) {
            const double v = faces[(b * 3 + j) * 3 + k];
            if (static_cast<std::int64_t>(j) < counts[b])
              sum += v;
            else
              CHECK(v == blank[k]);  // every empty slot holds the zero face's logits
          }
          CHECK(logits[b * 3 + k] == doctest::Approx(counts[b] == 0 ? 0.0 : sum / static_cast<double>(counts[b])));
        }
    }
}

TEST_CASE("inputs are checked, the errors name the tensor") {
  const ModelShapes shapes = tiny_shapes();
  const ModelInfo info = info_of("attention_a", true);
  const std::unique_ptr<GlerModel> m = tiny_model(info);
  const GlerInput good = tiny_input(info, shapes, {0, 2, 3}, 3);
  auto with = [&](auto change) {
    return [&, change] {
      GlerInput in = good;
      change(in);
      m->forward(in);
    };
  };
  test::expect_error_naming("count above the slots", {"face_counts[1] = 4", "[0, 3]"}, with([](GlerInput& in) {
                              in.face_counts = Tensor::from_vector<std::int64_t>({0, 4, 3}, {3});
                            }));
  test::expect_error_naming("negative count", {"face_counts[0] = -1"}, with([](GlerInput& in) {
                              in.face_counts = Tensor::from_vector<std::int64_t>({-1, 2, 3}, {3});
                            }));
  test::expect_error_naming("float counts", {"face_counts", "expected i64[3]"},
                            with([](GlerInput& in) { in.face_counts = Tensor::zeros({3}); }));
  test::expect_error_naming("counts of another batch", {"face_counts", "i64[3]"}, with([](GlerInput& in) {
                              in.face_counts = Tensor::from_vector<std::int64_t>({0, 1}, {2});
                            }));
  test::expect_error_naming("no faces", {"attention_a needs faces", "[B, F, 3, 16, 32]", "got none"},
                            with([](GlerInput& in) { in.faces = Tensor(); }));
  test::expect_error_naming("portrait faces in seed mode", {"faces is f64[3, 3, 3, 32, 16]", "[B, F, 3, 16, 32]"},
                            with([](GlerInput& in) {
                              in.faces = Tensor::zeros({3, 3, 3, 32, 16}, DType::f64);
                            }));
  test::expect_error_naming("faces of another batch", {"faces", "hold 2 images, the batch has 3"},
                            with([](GlerInput& in) { in.faces = in.faces.slice(0, 2); }));
  test::expect_error_naming("image size", {"images is f64[3, 3, 32, 32]", "expected f64[B, 3, 28, 28] on cpu"},
                            with([](GlerInput& in) {
                              in.images = Tensor::zeros({3, 3, 32, 32}, DType::f64);
                            }));
  test::expect_error_naming("image dtype", {"images is f32[3, 3, 28, 28]", "expected f64"},
                            with([](GlerInput& in) { in.images = in.images.to(DType::f32); }));
  const ModelInfo average = info_of("average", true);
  const std::unique_ptr<GlerModel> avg = tiny_model(average);
  GlerInput in = tiny_input(average, shapes, {1, 2}, 3);
  in.face_features = Tensor::zeros({2, 3, 256}, DType::f64);
  test::expect_error_naming("O-Net width", {"average", "face_features is f64[2, 3, 256]", "[B, F, 5]"},
                            [&] { avg->forward(in); });
  const ModelInfo local = info_of("local", false);
  const std::unique_ptr<GlerModel> loc = tiny_model(local);
  test::expect_error_naming("local without faces", {"local needs faces"}, [&] { loc->forward(GlerInput{}); });
}

TEST_CASE("one batched sphere call: empty slots hold sphere(0), and every image gives what it gives alone") {
  const ModelShapes shapes = tiny_shapes();
  // encode_faces against the seed's way: the sphere on every slot, zero faces included.
  Generator gen(8);
  models::Sphere20a sphere(gen, {.head = models::SphereHead::linear,
                                 .classes = 4,
                                 .widths = shapes.sphere_widths,
                                 .feature_dim = 6,
                                 .input_height = 32,
                                 .input_width = 16});
  sphere.to(DType::f64);
  const std::vector<std::int64_t> counts{2, 0, 3, 1};
  const GlerInput in = tiny_input(info_of("attention_a", true), shapes, counts, 3);
  const Tensor batched = models::encode_faces(sphere, in.faces, counts);
  const Tensor every_slot = sphere.forward(in.faces.reshape({12, 3, 16, 32})).logits.reshape({4, 3, 4});
  CHECK(test::max_rel_diff(batched, every_slot) < 1e-12);

  // The zero face runs only when a slot needs it (or no image has a face): a full batch is its faces.
  CHECK(models::real_faces_and_blank(in.faces, counts).size(0) == 7);
  CHECK(models::real_faces_and_blank(in.faces, {3, 3, 3, 3}).size(0) == 12);
  CHECK(models::real_faces_and_blank(in.faces, {0, 0, 0, 0}).size(0) == 1);
  CHECK(test::max_rel_diff(models::encode_faces(sphere, in.faces, {3, 3, 3, 3}), every_slot) < 1e-12);

  for (bool seed : {true, false})
    for (const ModelInfo& info : every_model(seed)) {
      CAPTURE(label(info));
      const std::unique_ptr<GlerModel> m = tiny_model(info);
      const GlerInput all = tiny_input(info, shapes, counts, 3);
      const GlerOutput together = m->forward(all);
      for (std::int64_t b = 0; b < 4; ++b) {
        CAPTURE(b);
        GlerInput one;
        one.images = all.images.slice(b, b + 1);
        one.faces = all.faces.slice(b, b + 1);
        one.face_features = all.face_features.slice(b, b + 1);
        one.face_counts = all.face_counts.slice(b, b + 1);
        const GlerOutput alone = m->forward(one);
        CHECK(test::max_rel_diff(together.logits.slice(b, b + 1), alone.logits) < 1e-12);
        if (info.is_attention()) CHECK(test::max_rel_diff(together.attention.slice(b, b + 1), alone.attention) < 1e-12);
      }
    }
}

TEST_CASE("seed_compat: A and B score through the seed's reshape, C does not; seed mode detaches the weights") {
  // Square faces, so both modes read the same face tensor.
  ModelShapes shapes = tiny_shapes();
  shapes.face_long = shapes.face_short = 32;
  for (const char* arch : {"attention_a", "attention_b", "attention_c"}) {
    CAPTURE(arch);
    const std::unique_ptr<GlerModel> seed = tiny_model(info_of(arch, true), shapes);
    const std::unique_ptr<GlerModel> fixed = tiny_model(info_of(arch, false), shapes);
    fixed->load_state_dict(seed->state_dict());
    const GlerInput in = tiny_input(info_of(arch, true), shapes, {3, 2}, 3);
    const GlerOutput a = seed->forward(in), b = fixed->forward(in);
    const double d = test::max_abs_diff(a.attention, b.attention);
    if (std::string(arch) == "attention_c")
      CHECK(d == 0.0);
    else
      CHECK(d > 1e-3);

    // The layers that only make scores learn in corrected mode only.
    const std::vector<std::string> score_layers =
        std::string(arch) == "attention_b"   ? std::vector<std::string>{"global_fc.weight"}
        : std::string(arch) == "attention_c" ? std::vector<std::string>{"attentionfc1.weight", "attentionfc2.weight"}
                                             : std::vector<std::string>{};
    for (GlerModel* m : {seed.get(), fixed.get()}) {
      m->zero_grad();
      backward(
          ops::sum_all(ops::mul(m->forward(in).logits, Tensor::from_vector<double>({1, -2, 3, 0.5, 1, -1}, {2, 3}))));
      for (const auto& [name, p] : m->named_parameters()) {
        if (std::find(score_layers.begin(), score_layers.end(), name) == score_layers.end()) continue;
        CAPTURE(name);
        const double g = p.grad().defined() ? test::max_abs_diff(p.grad(), Tensor::zeros(p.shape(), DType::f64)) : 0.0;
        if (m == seed.get())
          CHECK(g == 0.0);
        else
          CHECK(g > 0.0);
      }
    }
  }
}

TEST_CASE(
    "the non-EmotiC fusion models' DenseNet is frozen: no gradient, but its BatchNorm statistics follow the mode") {
  const ModelShapes shapes = tiny_shapes();
  for (const ModelInfo& info :
       {info_of("average", false), info_of("attention_c", false), info_of("attention_c", false, true)}) {
    CAPTURE(label(info));
    const std::unique_ptr<GlerModel> m = tiny_model(info);
    const GlerInput in = tiny_input(info, shapes, {3, 1, 2}, 3);
    const Tensor conv0 = m->state_dict().front().second;
    REQUIRE(test::names(m->state_dict()).front().ends_with("conv0.weight"));
    Tensor running_mean;
    for (const auto& [name, t] : m->state_dict())
      if (name.ends_with("norm0.running_mean")) running_mean = t;
    const Tensor before = running_mean.clone();
    m->train();
    m->zero_grad();
    Generator gen(1);
    backward(ops::sum_all(m->forward(in, &gen).logits));
    CHECK(test::max_abs_diff(running_mean, before) > 0.0);
    const bool trained =
        conv0.grad().defined() && test::max_abs_diff(conv0.grad(), Tensor::zeros(conv0.shape(), DType::f64)) > 0;
    CHECK(trained == info.emotic);
  }
}

TEST_CASE("training mode draws dropout masks from the generator it is given, and needs one") {
  const ModelShapes shapes = tiny_shapes();
  for (const ModelInfo& info : every_model(false)) {
    CAPTURE(label(info));
    const std::unique_ptr<GlerModel> m = tiny_model(info);
    const GlerInput in = tiny_input(info, shapes, {3, 1, 2}, 3);
    m->train();
    if (info.arch == "global" || info.arch == "local") {
      CHECK_NOTHROW(m->forward(in));  // no dropout in these
      continue;
    }
    test::expect_error_naming("no generator", {info.arch.c_str(), "training mode needs a Generator"},
                              [&] { m->forward(in); });
    Generator g1(4), g2(4), g3(5);
    const Tensor a = m->forward(in, &g1).logits, b = m->forward(in, &g2).logits, c = m->forward(in, &g3).logits;
    CHECK(test::max_abs_diff(a, b) == 0.0);
    CHECK(test::max_abs_diff(a, c) > 0.0);
  }
}

TEST_CASE("load_model: a saved model comes back in eval mode with its outputs; other files are refused") {
  test::TempDir dir("gler_models_load");
  const ModelInfo info = info_of("local", true, false, "lsoftmax", 4);
  Generator gen(9);
  const std::unique_ptr<GlerModel> made = models::make_model(info, gen);
  made->eval();
  const std::string path = (dir.path() / "local.safetensors").string();
  models::save_weights(*made, path, info.to_metadata());
  const std::unique_ptr<GlerModel> loaded = models::load_model(path, Device::CPU);
  CHECK(loaded->info().arch == "local");
  CHECK(loaded->info().local_head == "lsoftmax");
  CHECK(loaded->info().max_faces == 4);
  CHECK(loaded->info().seed_compat);
  CHECK_FALSE(loaded->is_training());
  Generator data(10);
  GlerInput in;
  in.faces = Tensor::zeros({2, 4, 3, 96, 112});
  in.faces.slice(1, 2).reshape({4, 3, 96, 112}).slice(0, 2).copy_(test::uniform_tensor({2, 3, 96, 112}, data, 0, 1));
  in.face_counts = Tensor::from_vector<std::int64_t>({0, 2}, {2});
  NoGradGuard no_grad;
  CHECK(test::max_abs_diff(made->forward(in).logits, loaded->forward(in).logits) == 0.0);

  models::DenseNet backbone({.growth_rate = 2, .block_config = {1}, .num_init_features = 4, .bn_size = 2}, gen);
  const std::string dn = (dir.path() / "densenet.safetensors").string();
  models::save_weights(backbone, dn, {{"arch", "densenet161"}});
  test::expect_error_naming("a DenseNet file", {"densenet.safetensors", "densenet161", "gler_infer needs one of"},
                            [&] { models::load_model(dn, Device::CPU); });
  const std::string bare = (dir.path() / "bare.safetensors").string();
  models::save_weights(backbone, bare, {});
  test::expect_error_naming("no metadata", {"bare.safetensors", "records no arch"},
                            [&] { models::load_model(bare, Device::CPU); });
  const std::string text = (dir.path() / "model.pth").string();
  std::ofstream(text) << "not a model";
  test::expect_error_naming("not safetensors", {"model.pth", "not a readable safetensors model"},
                            [&] { models::load_model(text, Device::CPU); });
}

TEST_CASE("local with an L-Softmax fc6: the labels put the margin on the target logit in training (corrected only)") {
  const ModelShapes shapes = tiny_shapes();
  const std::vector<std::int64_t> counts{2, 3};
  for (bool seed : {false, true}) {
    CAPTURE(seed);
    const ModelInfo info = test::info_of("local", seed, false, "lsoftmax");
    const std::unique_ptr<GlerModel> m = tiny_model(info);
    GlerInput in = tiny_input(info, shapes, counts, 3);
    NoGradGuard no_grad;
    m->train();
    const std::vector<double> plain = m->forward(in).logits.to_vector<double>();
    in.labels = Tensor::from_vector(std::vector<std::int64_t>{0, 2}, {2});
    const std::vector<double> margin = m->forward(in).logits.to_vector<double>();
    m->eval();
    const std::vector<double> eval = m->forward(in).logits.to_vector<double>();
    CHECK(eval == plain);  // eval mode: x·W, whatever the labels
    for (std::size_t b = 0; b < 2; ++b)
      for (std::size_t k = 0; k < 3; ++k) {
        const bool target = static_cast<std::int64_t>(k) == in.labels.to_vector<std::int64_t>()[b];
        CAPTURE(b);
        CAPTURE(k);
        if (seed || !target)
          CHECK(margin[b * 3 + k] == doctest::Approx(plain[b * 3 + k]).epsilon(1e-12));  // the seed's margin is dead
        else
          CHECK(margin[b * 3 + k] < plain[b * 3 + k]);  // ψ(θ) <= cos θ: the margin lowers the target's logit
      }
  }
}

TEST_CASE("local with an A-Softmax fc6: the logits are the faces' mean |x|cos(theta), psi comes beside them") {
  const ModelShapes shapes = tiny_shapes();
  const std::vector<std::int64_t> counts{2, 0, 3};
  const ModelInfo info = test::info_of("local", false, false, "asoftmax");
  const std::unique_ptr<GlerModel> m = tiny_model(info);
  NoGradGuard no_grad;
  const GlerOutput out = m->forward(tiny_input(info, shapes, counts, 3));
  REQUIRE(out.face_logits.shape() == Shape{3, 3, 3});
  REQUIRE(out.face_phi.shape() == Shape{3, 3, 3});
  const std::vector<double> cos = out.face_logits.to_vector<double>(), phi = out.face_phi.to_vector<double>();
  for (std::size_t i = 0; i < cos.size(); ++i) CHECK(phi[i] <= cos[i] + 1e-12);  // psi(theta) <= cos(theta)
  const std::vector<double> logits = out.logits.to_vector<double>();
  for (std::size_t b = 0; b < counts.size(); ++b)
    for (std::size_t k = 0; k < 3; ++k) {
      double sum = 0;
      for (std::int64_t j = 0; j < counts[b]; ++j) sum += cos[(b * 3 + static_cast<std::size_t>(j)) * 3 + k];
      CHECK(logits[b * 3 + k] == doctest::Approx(counts[b] ? sum / static_cast<double>(counts[b]) : 0.0));
    }
}

TEST_CASE("inference runs sphere20a over chunks of 16 faces and gives what one call over all of them gives") {
  const ModelShapes shapes = tiny_shapes();
  const std::vector<std::int64_t> counts{70, 0, 65};  // 135 faces and the zero face: nine chunks
  for (const char* arch : {"local", "attention_c"}) {
    CAPTURE(arch);
    const ModelInfo info = test::info_of(arch, false, false, "linear", 70);
    const std::unique_ptr<GlerModel> m = tiny_model(info);
    const GlerInput in = tiny_input(info, shapes, counts, 70);
    const GlerOutput whole = m->forward(in);  // a graph is recorded: one call
    GlerOutput chunked;
    {
      NoGradGuard no_grad;
      chunked = m->forward(in);
    }
    const std::vector<double> a = whole.logits.to_vector<double>(), b = chunked.logits.to_vector<double>();
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(b[i] == doctest::Approx(a[i]).epsilon(1e-12));
  }
}
