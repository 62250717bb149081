// gler_bench end to end: every network runs on the CPU and prints the contract's JSON; bad
// arguments give one `error:` line and exit 2.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "io/json.h"
#include "tests/support/run_cli.h"

using gler::test::run_cli;

namespace {

std::string bench(const std::string& args) { return std::string(GLER_BIN_DIR) + "/gler_bench " + args; }

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
    }
  }
}

TEST_CASE("gler_bench refuses bad arguments with error: and exit 2") {
  for (const std::string args : {"--model resnet50", "", "--model rnet --batch 0", "--model rnet --device cuda:7",
                                 "--model rnet --threads 0", "--model rnet --layout sideways", "--model rnet extra"}) {
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
