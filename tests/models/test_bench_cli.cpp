// gler_bench end to end: every network and GLER model and the whole pipeline run on the CPU and
// print the contract's JSON, with FLOP counts equal to PyTorch's; bad arguments give one `error:`
// line and exit 2.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "io/json.h"
#include "tests/support/run_cli.h"

using gler::test::run_cli;

namespace {

std::string bench(const std::string& args) { return std::string(GLER_BIN_DIR) + "/gler_bench " + args; }

// GFLOP of one forward with --batch 1 --faces 2, as bench/torch_ref.py --flops counts them on the
// PyTorch definitions (forward hooks on Conv2d / Linear / L-Softmax; torchvision 0.14, 2026-12-02).
const std::map<std::string, double> kTorchGflop = {
    {"densenet161", 15.451411392}, {"densenet121", 5.666281472},  {"sphere20a", 6.998956032},
    {"pnet", 0.385278},            {"rnet", 0.003061536},         {"onet", 0.025819904},
    {"global", 15.451411392},      {"local", 6.998956032},        {"average", 15.451412928},
    {"attention_a", 22.452005888}, {"attention_b", 22.451644288}, {"attention_b_emotic", 22.451644288},
    {"attention_c", 22.45207168},  {"attention_c_emotic", 22.45207168}};

void check_gflop(const gler::json::Value& v, double expected) {
  const double gflop = v.at("gflop").as_number();
  CHECK(std::abs(gflop - expected) <= 0.01 * expected);
  CHECK(v.at("gflop_per_s").as_number() == doctest::Approx(gflop * 1000.0 / v.at("ms_per_batch").as_number()));
}

gler::json::Value bench_json(const std::string& args) {
  const auto r = run_cli(bench(args + " --warmup 0 --runs 1 --threads 1 --json"));
  CAPTURE(r.out);
  REQUIRE(r.status == 0);
  return gler::json::parse(r.out);
}

}  // namespace

TEST_CASE("gler_bench times every network and prints the JSON") {
  for (const std::string model : {"densenet161", "densenet121", "sphere20a", "pnet", "rnet", "onet"}) {
    for (const bool train : {false, true}) {
      if (train && model.starts_with("densenet1")) continue;  // a full DenseNet training step takes too long here
      CAPTURE(model);
      CAPTURE(train);
      const auto r = run_cli(bench("--model " + model + " --faces 2 --warmup 0 --runs 1 --threads 1 --json" +
                                   (train ? " --train" : "")));
      CAPTURE(r.out);
      REQUIRE(r.status == 0);
      const gler::json::Value v = gler::json::parse(r.out);
      CHECK(v.at("model").as_string() == model);
      CHECK(v.at("device").as_string() == "cpu");
      CHECK(v.at("train").as_bool() == train);
      CHECK(v.at("batch").as_number() == (model == "sphere20a" ? 2 : 1));
      CHECK(v.at("threads").as_number() == 1);
      CHECK(v.at("ms_per_batch").as_number() > 0);
      CHECK(v.at("images_per_s").as_number() > 0);
      CHECK(v.at("peak_bytes").as_number() >= 0);
      CHECK(v.at("tensor_peak_bytes").as_number() > 0);
      CHECK(v.at("rss_peak_bytes").as_number() > 0);
      const double forward = kTorchGflop.at(model);
      check_gflop(v, train ? 3 * forward : forward);  // every layer of a network is trained
    }
  }
}

TEST_CASE("DenseNet-161's FLOP count is the published 7.8 GMACs") {
  const gler::json::Value v = bench_json("--model densenet161");
  CHECK(v.at("gflop").as_number() / 2 == doctest::Approx(7.8).epsilon(0.02));
}

TEST_CASE("gler_bench times every GLER model with its faces, forward and training step") {
  for (const std::string model : {"global", "local", "average", "attention_a", "attention_b", "attention_c",
                                  "attention_b_emotic", "attention_c_emotic"}) {
    CAPTURE(model);
    const gler::json::Value v = bench_json("--model " + model + " --faces 2");
    CHECK(v.at("model").as_string() == model);
    CHECK(v.at("train").as_bool() == false);
    CHECK(v.at("batch").as_number() == 1);
    if (model != "global") CHECK(v.at("faces").as_number() == 2);
    CHECK(v.at("ms_per_batch").as_number() > 0);
    CHECK(v.at("ms_min").as_number() <= v.at("ms_per_batch").as_number());
    CHECK(v.at("images_per_s").as_number() > 0);
    CHECK(v.at("tensor_peak_bytes").as_number() > 0);
    check_gflop(v, kTorchGflop.at(model));
  }
  // Training: the seed layout's attention_c detaches its DenseNet feature and attention weights, so
  // only sphere20a and the head layers get a backward (PyTorch, counting the layers whose weights got
  // a gradient: 72.906574336 GFLOP); local trains every layer.
  const gler::json::Value c = bench_json("--model attention_c --layout seed --batch 2 --faces 2 --train");
  CHECK(c.at("train").as_bool());
  CHECK(c.at("batch").as_number() == 2);
  check_gflop(c, 72.906574336);
  check_gflop(bench_json("--model local --faces 2 --train"), 3 * kTorchGflop.at("local"));
}

TEST_CASE("gler_bench --pipeline times the whole pipeline over a folder of photos") {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "gler_bench_cli_pipeline";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "empty");
  const std::string model = (dir / "attention_c.safetensors").string();
  REQUIRE(run_cli(std::string(GLER_BIN_DIR) + "/gler_import --init attention_c --seed-compat -o " + model).status == 0);
  const std::string photos = std::string(GLER_SOURCE_DIR) + "/data/photos";
  const gler::json::Value v = bench_json("--pipeline " + photos + " --weights " + model + " --batch 2");
  CHECK(v.at("model").as_string() == "pipeline");
  CHECK(v.at("arch").as_string() == "attention_c");
  CHECK(v.at("photos").as_number() == 3);
  CHECK(v.at("batch").as_number() == 3);
  CHECK(v.at("faces").as_number() == 2 + 0 + 15);  // ipazc_ivan, ipazc_no-faces, solvay's 29 in 15 slots
  CHECK(v.at("ms_per_batch").as_number() > 0);
  CHECK(v.at("prepare_ms").as_number() > 0);
  CHECK(v.at("model_ms").as_number() > 0);
  CHECK(v.at("prepare_ms").as_number() + v.at("model_ms").as_number() <= v.at("ms_per_batch").as_number());
  CHECK(v.at("images_per_s").as_number() == doctest::Approx(3000.0 / v.at("ms_per_batch").as_number()));

  const auto empty = run_cli(bench("--pipeline " + (dir / "empty").string() + " --weights " + model));
  CHECK(empty.status == 2);
  CHECK(empty.out.rfind("error: no images found under", 0) == 0);
  for (const std::string& args : std::vector<std::string>{
           "--pipeline /nonexistent --weights " + model, "--pipeline " + photos + " --weights " + model + " --train",
           "--pipeline " + photos + " --weights " + model + " --faces 3",
           "--pipeline " + photos + " --model attention_c", "--pipeline " + photos + " --weights /nonexistent.safetensors"}) {
    CAPTURE(args);
    const auto bad = run_cli(bench(args));
    CHECK(bad.status == 2);
    CHECK(bad.out.rfind("error: ", 0) == 0);
  }
  if (!std::filesystem::exists(std::string(GLER_SOURCE_DIR) + "/data/default/face_expression.safetensors")) {
    const auto no_default = run_cli(bench("--pipeline " + photos));
    CHECK(no_default.status == 2);
    CHECK(no_default.has("the default model is not installed"));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("gler_bench refuses bad arguments with error: and exit 2") {
  for (const std::string args : {"--model resnet50", "", "--model rnet --batch 0", "--model rnet --device cuda:7",
                                 "--model rnet --threads 0", "--model rnet --layout sideways", "--model rnet extra",
                                 "--model global_emotic", "--model attention_c --faces 0"}) {
    CAPTURE(args);
    const auto r = run_cli(bench(args));
    CHECK(r.status == 2);
    CHECK(r.out.rfind("error: ", 0) == 0);
  }
  CHECK(run_cli(bench("--help")).status == 0);
}

TEST_CASE("gler_bench loads real weights by name and refuses another architecture's, listing the tensors") {
  const std::string mtcnn = std::string(GLER_SOURCE_DIR) + "/data/mtcnn/mtcnn.safetensors";
  for (const std::string net : {"pnet", "rnet", "onet"}) {
    const auto r = run_cli(bench("--model " + net + " --weights " + mtcnn + " --warmup 0 --runs 1 --json"));
    CAPTURE(r.out);
    CHECK(r.status == 0);
  }
  const auto wrong = run_cli(bench("--model sphere20a --faces 1 --weights " + mtcnn + " --runs 1"));
  CAPTURE(wrong.out);
  CHECK(wrong.status == 2);
  CHECK(wrong.has("error: "));
  CHECK(wrong.has("missing conv1_1.weight"));
  CHECK(wrong.has("unexpected pnet.features.conv1.weight"));
  const auto part = run_cli(bench("--model onet --weights " + mtcnn.substr(0, mtcnn.size() - 12) + "nothing.safetensors"));
  CHECK(part.status == 2);
}

TEST_CASE("gler_bench times a whole MTCNN detection of a photo") {
  const std::string photo = std::string(GLER_SOURCE_DIR) + "/data/photos/ipazc_ivan.jpg";
  const auto r = run_cli(bench("--model mtcnn --image " + photo + " --warmup 0 --runs 1 --threads 1 --json"));
  CAPTURE(r.out);
  REQUIRE(r.status == 0);
  const gler::json::Value v = gler::json::parse(r.out);
  CHECK(v.at("model").as_string() == "mtcnn");
  CHECK(v.at("batch").as_number() == 1);
  CHECK(v.at("ms_per_batch").as_number() > 0);
  for (const std::string& args : std::vector<std::string>{"--model mtcnn", "--model mtcnn --image /nonexistent.jpg",
                                                          "--model mtcnn --train --image " + photo,
                                                          "--model rnet --image " + photo}) {
    CAPTURE(args);
    const auto bad = run_cli(bench(args));
    CHECK(bad.status == 2);
    CHECK(bad.out.rfind("error: ", 0) == 0);
  }
}
