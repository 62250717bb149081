// ModelShapes in a model file's metadata: the round trip, nothing recorded for the defaults, a tiny
// model saved and loaded back bit for bit, hostile "shapes" values refused by name; and which
// models have a frozen image backbone.
#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "core/autograd.h"
#include "models/checkpoint.h"
#include "models/gler/gler_model.h"
#include "models/gler/model_shapes.h"
#include "tests/models/gler_test_models.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tensors.h"
#include "tests/support/torch_ref.h"

using namespace gler;
using models::GlerInput;
using models::GlerModel;
using models::ModelInfo;
using models::ModelShapes;
using test::info_of;
using test::tiny_shapes;

namespace {

// The tiny shapes as a file records them (num_classes is the builders' business, not recorded).
ModelShapes recordable_tiny_shapes() {
  ModelShapes s = tiny_shapes();
  s.densenet.num_classes = ModelShapes{}.densenet.num_classes;
  return s;
}

std::map<std::string, std::string> with_shapes(const std::string& json) { return {{"shapes", json}}; }

}  // namespace

TEST_CASE("shapes metadata: round trip, nothing for the defaults, missing fields keep the defaults") {
  ModelShapes s = recordable_tiny_shapes();
  s.densenet.block_config = {1, 3};
  s.densenet.drop_rate = 0.2;
  const std::map<std::string, std::string> metadata = models::shapes_to_metadata(s);
  REQUIRE(metadata.size() == 1);
  CHECK(metadata.contains("shapes"));
  CHECK(models::shapes_from_metadata(metadata) == s);

  CHECK(models::shapes_to_metadata(ModelShapes{}).empty());
  ModelShapes classes = ModelShapes{};
  classes.densenet.num_classes = 3;  // overwritten per arch: not a shape of the file
  CHECK(models::shapes_to_metadata(classes).empty());
  CHECK(models::shapes_from_metadata({}) == ModelShapes{});
  CHECK(models::shapes_from_metadata(info_of("attention_c", false).to_metadata()) == ModelShapes{});

  ModelShapes expected;
  expected.head_dim = 7;
  expected.densenet.growth_rate = 12;
  CHECK(models::shapes_from_metadata(with_shapes(R"({"head_dim": 7, "densenet": {"growth_rate": 12}})")) == expected);
}

TEST_CASE("shapes metadata: bad values are refused, naming the key") {
  const std::vector<std::pair<std::string, std::vector<const char*>>> cases{
      {"not json", {"json"}},
      {"[1, 2]", {"must be a JSON object", "an array"}},
      {R"({"head_dim": "4"})", {"'head_dim'", "a string"}},
      {R"({"head_dim": -4})", {"'head_dim'", "[1, 4096]", "-4"}},
      {R"({"head_dim": 2.5})", {"'head_dim'", "2.5"}},
      {R"({"head_dim": 1e300})", {"'head_dim'"}},
      {R"({"colour": 1})", {"unknown key 'colour'"}},
      {R"({"densenet": 3})", {"'densenet' must be an object"}},
      {R"({"densenet": {"growth": 2}})", {"unknown key 'densenet.growth'"}},
      {R"({"densenet": {"num_classes": 3}})", {"unknown key 'densenet.num_classes'"}},
      {R"({"densenet": {"growth_rate": 5000}})", {"'densenet.growth_rate'", "[1, 1024]"}},
      {R"({"densenet": {"block_config": []}})", {"'densenet.block_config'", "1 to 8", "0 entries"}},
      {R"({"densenet": {"block_config": [1, 1, 1, 1, 1, 1, 1, 1, 1]}})", {"'densenet.block_config'", "9 entries"}},
      {R"({"densenet": {"block_config": [6, 0]}})", {"'densenet.block_config[1]'"}},
      {R"({"densenet": {"block_config": [6, 1000]}})", {"'densenet.block_config[1]'", "[1, 256]"}},
      {R"({"densenet": {"drop_rate": 1}})", {"'densenet.drop_rate'", "[0, 1)"}},
      {R"({"sphere_widths": [8, 8, 8]})", {"'sphere_widths'", "array of 4 integers", "3 entries"}},
      {R"({"sphere_widths": [8, 8, 8, null]})", {"'sphere_widths[3]'", "a null"}},
      // Each field in range, the model far too big: fc5 alone would be 4096 · 256² · 4096 weights.
      {R"({"sphere_feature_dim": 4096, "face_long": 4096, "face_short": 4096})", {"million weights", "full-size"}},
      {R"({"densenet": {"growth_rate": 1024, "bn_size": 64}})", {"million weights"}},
  };
  for (const auto& [json, words] : cases) {
    CAPTURE(json);
    const std::string message = test::error_message([&] { models::shapes_from_metadata(with_shapes(json)); });
    REQUIRE_FALSE(message.empty());
    CHECK(message.find("model metadata 'shapes'") != std::string::npos);
    for (const char* w : words) CHECK_MESSAGE(message.find(w) != std::string::npos, "no '" << w << "' in: " << message);
  }
  // The writer refuses what load_model would refuse.
  ModelShapes zero = tiny_shapes();
  zero.head_dim = 0;
  test::expect_error_naming("writing a zero head_dim", {"'head_dim'"}, [&] { models::shapes_to_metadata(zero); });
}

TEST_CASE("load_model: a tiny attention_c comes back with its shapes and bit-equal logits; bad shapes name the file") {
  test::TempDir dir("gler_model_shapes");
  const ModelInfo info = info_of("attention_c", false, false, "linear", 3);
  const ModelShapes shapes = tiny_shapes();
  Generator gen(4);
  const std::unique_ptr<GlerModel> made = models::make_model(info, gen, shapes);
  // Non-trivial BatchNorm statistics, so eval mode's use of them is checked too.
  for (const auto& [name, t] : made->named_buffers())
    if (name.ends_with("running_mean"))
      uniform_(t, -0.3, 0.3, gen);
    else if (name.ends_with("running_var"))
      uniform_(t, 0.5, 1.5, gen);
  made->eval();
  std::map<std::string, std::string> metadata = info.to_metadata();
  metadata.merge(models::shapes_to_metadata(shapes));
  const std::string path = (dir.path() / "tiny.safetensors").string();
  models::save_weights(*made, path, metadata);

  const std::unique_ptr<GlerModel> loaded = models::load_model(path, Device::CPU);
  CHECK(loaded->info().arch == "attention_c");
  CHECK_FALSE(loaded->is_training());
  Generator data(6);
  const std::int64_t h = shapes.face_height(false), w = shapes.face_width(false);
  GlerInput in;
  in.images = test::uniform_tensor({2, 3, shapes.image_size, shapes.image_size}, data, -2, 2);
  in.faces = Tensor::zeros({2, 3, 3, h, w});
  in.faces.slice(1, 2).reshape({3, 3, h, w}).slice(0, 2).copy_(test::uniform_tensor({2, 3, h, w}, data, 0, 1));
  in.face_counts = Tensor::from_vector<std::int64_t>({0, 2}, {2});
  NoGradGuard no_grad;
  const models::GlerOutput a = made->forward(in), b = loaded->forward(in);
  CHECK(test::max_abs_diff(a.logits, b.logits) == 0.0);
  CHECK(test::max_abs_diff(a.attention, b.attention) == 0.0);

  metadata["shapes"] = R"({"head_dim": -1})";
  const std::string bad = (dir.path() / "bad.safetensors").string();
  models::save_weights(*made, bad, metadata);
  test::expect_error_naming("bad shapes", {"bad.safetensors", "model metadata 'shapes'", "'head_dim'"},
                            [&] { models::load_model(bad, Device::CPU); });
}

TEST_CASE("frozen_backbone: the detached DenseNet of average and attention_a/b/c, none elsewhere") {
  const std::vector<std::pair<ModelInfo, bool>> cases{
      {info_of("average", false), true},
      {info_of("attention_a", true), true},
      {info_of("attention_b", false), true},
      {info_of("attention_c", false), true},
      {info_of("attention_c", false, true), false},
      {info_of("attention_b", true, true), false},
      {info_of("local", false), false},
      {info_of("global", false), false},
  };
  for (const auto& [info, frozen] : cases) {
    CAPTURE(info.arch);
    CAPTURE(info.emotic);
    Generator gen(2);
    const std::unique_ptr<GlerModel> m = models::make_model(info, gen, tiny_shapes());
    Module* backbone = m->frozen_backbone();
    REQUIRE((backbone != nullptr) == frozen);
    if (!backbone) continue;
    // It is the model's global_model: the same tensors, under that prefix.
    std::size_t prefixed = 0;
    for (const auto& [name, t] : m->state_dict()) prefixed += name.starts_with("global_model.");
    const NamedTensors own = backbone->state_dict();
    REQUIRE(own.size() == prefixed);
    bool same = false;
    for (const auto& [name, t] : m->state_dict())
      if (name == "global_model." + own.front().first) same = t.same(own.front().second);
    CHECK(same);
  }
}
