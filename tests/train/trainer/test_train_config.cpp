// gler_train's configs and initialisation: every config in configs/ reads and round-trips through
// to_json; bad keys, types and values are errors naming them; init copies exactly the selected
// tensors under `into`, leaves `skip` at its init, and lists every tensor that does not fit.
#include <doctest/doctest.h>

#include <filesystem>

#include "core/error.h"
#include "io/json.h"
#include "models/checkpoint.h"
#include "models/gler/gler_model.h"
#include "tests/support/temp_dir.h"
#include "train/trainer/initialise.h"
#include "train/trainer/train_config.h"
#include "weights_import/safetensors.h"
#include "weights_import/tensor_data.h"

namespace fs = std::filesystem;
using namespace gler;

namespace {

const test::TempDir kScratch("gler_train_config");

train::TrainConfig parse(const std::string& text) { return train::parse_train_config(json::parse(text), "t"); }

std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

models::ModelShapes tiny_shapes() {
  models::ModelShapes s;
  s.sphere_widths = {2, 2, 3, 3};
  s.sphere_feature_dim = 8;
  s.head_dim = 4;
  s.attention_dim = 4;
  s.densenet = {.growth_rate = 2, .block_config = {1, 1, 1, 1}, .num_init_features = 4, .bn_size = 2};
  return s;
}

bool equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.to(DType::f64).to_vector<double>() == b.to(DType::f64).to_vector<double>();
}

Tensor find(const NamedTensors& named, const std::string& name) {
  for (const auto& [n, t] : named)
    if (n == name) return t;
  FAIL("no tensor " << name);
  return Tensor();
}

}  // namespace

TEST_CASE("every config in configs/ reads, names an arch, and round-trips through to_json") {
  int count = 0;
  for (const auto& e : fs::directory_iterator(std::string(GLER_SOURCE_DIR) + "/configs")) {
    if (e.path().extension() != ".json") continue;
    CAPTURE(e.path());
    const train::TrainConfig c = train::read_train_config(e.path());
    CHECK(c.name == e.path().stem().string());
    CHECK(!c.description.empty());
    CHECK_FALSE(c.model.seed_compat);
    const std::string once = json::dump(train::to_json(c));
    CHECK(json::dump(train::to_json(train::parse_train_config(json::parse(once), "other"))) == once);
    ++count;
  }
  CHECK(count >= 15);
}

TEST_CASE("the paper's hyper-parameters (SEED_SPEC 4.12) are in the configs") {
  const auto read = [](const std::string& name) {
    return train::read_train_config(std::string(GLER_SOURCE_DIR) + "/configs/" + name + ".json");
  };
  const train::TrainConfig c = read("attention_c");
  CHECK(c.model.arch == "attention_c");
  CHECK(c.optimizer.type == "sgd");
  CHECK(c.optimizer.lr == 0.01);
  CHECK(c.optimizer.momentum == 0.9);
  CHECK(c.schedule.step_size == 9);
  CHECK(c.epochs == 27);
  CHECK(c.epochs_full == 16);
  CHECK(c.batch == 32);
  const train::TrainConfig local = read("local");
  CHECK(local.loss == train::LossKind::face_ce);
  CHECK(local.batch == 60);
  CHECK(local.epochs_full == 9);
  const train::TrainConfig avg = read("average");
  CHECK(avg.model.max_faces == 27);
  CHECK(avg.train_only == std::vector<std::string>{"global_fc3_debug."});
  const train::TrainConfig adam = read("attention_c_adam");
  CHECK(adam.optimizer.type == "adam");
  CHECK(adam.optimizer.lr == 0.0003);
  CHECK(adam.schedule.step_size == 0);
  CHECK(read("global_simple").augment);
  CHECK(read("local_finetune_lsoftmax").model.local_head == "lsoftmax");
}

TEST_CASE("bad configs are errors naming the key") {
  const std::string ok = R"({"model": {"arch": "local"})";
  CHECK(error_of(ok + "}").empty());
  CHECK(error_of(R"({})").find("config.model is missing") != std::string::npos);
  CHECK(error_of(ok + R"(, "lr": 1})").find("unknown key config.lr") != std::string::npos);
  CHECK(error_of(R"({"model": {"arch": "local", "depth": 3}})").find("unknown key config.model.depth") != std::string::npos);
  CHECK(error_of(R"({"model": {"arch": "vgg"}})").find("vgg") != std::string::npos);
  CHECK(error_of(R"({"model": {"arch": "default"}})").find("not trained by gler_train") != std::string::npos);
  CHECK(error_of(ok + R"(, "optimizer": {"type": "rmsprop"}})").find("config.optimizer.type") != std::string::npos);
  CHECK(error_of(ok + R"(, "optimizer": {"lr": -1}})").find("config.optimizer.lr") != std::string::npos);
  CHECK(error_of(ok + R"(, "optimizer": {"nesterov": true}})").find("nesterov needs a momentum") != std::string::npos);
  CHECK(error_of(ok + R"(, "epochs": 2.5})").find("config.epochs") != std::string::npos);
  CHECK(error_of(ok + R"(, "batch": 0})").find("config.batch") != std::string::npos);
  CHECK(error_of(ok + R"(, "loss": "hinge"})").find("config.loss") != std::string::npos);
  CHECK(error_of(ok + R"(, "loss": "lsoftmax"})").find("local_head lsoftmax") != std::string::npos);
  CHECK(error_of(R"({"model": {"arch": "global"}, "loss": "face_ce"})").find("local arch only") != std::string::npos);
  CHECK(error_of(R"({"model": {"arch": "local"}, "augment": true})").find("global arch only") != std::string::npos);
  CHECK(error_of(ok + R"(, "init": [{"select": "x"}]})").find("config.init[0].file is missing") != std::string::npos);
  CHECK(error_of(ok + R"(, "init": [{"file": "a", "to": "b"}]})").find("unknown key config.init[0].to") != std::string::npos);
  CHECK(error_of(ok + R"(, "shapes": {"sphere_widths": [1, 2]}})").find("sphere_widths") != std::string::npos);
}

TEST_CASE("init copies the selected tensors into the named part of the model, strictly") {
  // A tiny local model's file initialises a tiny attention_c's align_model, fc6 left out (3-way
  // there, head_dim-way here): what the paper's configs do with the Local checkpoint.
  Generator g1(1), g2(2);
  models::ModelInfo local_info;
  local_info.arch = "local";
  models::ModelInfo attention_info;
  attention_info.arch = "attention_c";
  const auto local = models::make_model(local_info, g1, tiny_shapes());
  const auto attention = models::make_model(attention_info, g2, tiny_shapes());
  const fs::path file = kScratch.path() / "local.safetensors";
  models::save_weights(*local, file.string(), local_info.to_metadata());
  const NamedTensors before = [&] {
    NamedTensors out;
    for (const auto& [n, t] : attention->state_dict()) out.emplace_back(n, t.clone());
    return out;
  }();

  const train::InitSource source{"local.safetensors", "", "align_model.", {"align_model.fc6."}};
  const std::string summary = train::initialise_from(*attention, source, kScratch.path());
  CHECK(summary.find("into align_model.") != std::string::npos);
  const NamedTensors after = attention->state_dict();
  for (const auto& [name, t] : after) {
    CAPTURE(name);
    if (name.starts_with("align_model.") && !name.starts_with("align_model.fc6.")) {
      CHECK(equal(t, find(local->state_dict(), name.substr(std::string("align_model.").size()))));
    } else {
      CHECK(equal(t, find(before, name)));  // everything else keeps its init
    }
  }

  // Without the skip, fc6 does not fit; a wrong prefix leaves the part missing; a missing file says so.
  const auto message = [&](const train::InitSource& s) {
    try {
      train::initialise_from(*attention, s, kScratch.path());
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(message({"local.safetensors", "", "align_model.", {}}).find("mis-shaped: fc6.weight") != std::string::npos);
  wi::StateDict partial;  // the local model without its fc5
  for (const auto& [name, t] : local->state_dict())
    if (!name.starts_with("fc5.")) partial.add(name, wi::to_tensor_data(t));
  wi::write_safetensors((kScratch.path() / "partial.safetensors").string(), partial);
  CHECK(message({"partial.safetensors", "", "align_model.", {"align_model.fc6."}}).find("missing: align_model.fc5.weight") !=
        std::string::npos);
  CHECK(message({"local.safetensors", "", "", {}}).find("unexpected: conv1_1.weight") != std::string::npos);
  CHECK(message({"absent.safetensors", "", "", {}}).find("absent.safetensors not found") != std::string::npos);
}
