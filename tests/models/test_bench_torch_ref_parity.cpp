// bench/torch_ref.py, the PyTorch side of bench/compare.sh, kept from rotting: it runs, prints
// gler_bench's JSON fields, and its forward-hook FLOP counts equal gler_bench's analytic ones. With
// GLER_SEED_MTCNN naming the seed's MTCNN folder it also runs the seed's pipeline over data/photos.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "io/json.h"
#include "tests/support/python_modules.h"
#include "tests/support/run_cli.h"

using gler::test::run_cli;

namespace {

gler::json::Value json_of(const std::string& command) {
  const auto r = run_cli(command);
  CAPTURE(command);
  CAPTURE(r.out);
  REQUIRE(r.status == 0);
  return gler::json::parse(r.out.substr(r.out.rfind('{')));  // the JSON is the last line
}

gler::json::Value torch_ref(const std::string& args) {
  return json_of(std::string(GLER_PYTHON) + " " + GLER_SOURCE_DIR + "/bench/torch_ref.py " + args + " --threads 1");
}

gler::json::Value gler_bench(const std::string& args) {
  return json_of(std::string(GLER_BIN_DIR) + "/gler_bench " + args + " --warmup 0 --runs 1 --threads 1 --json");
}

void check_timing_fields(const gler::json::Value& v) {
  CHECK(v.at("ms_per_batch").as_number() > 0);
  CHECK(v.at("ms_min").as_number() <= v.at("ms_per_batch").as_number());
  CHECK(v.at("images_per_s").as_number() > 0);
  CHECK(v.at("peak_bytes").as_number() >= 0);
  CHECK(v.at("rss_peak_bytes").as_number() >= 0);
}

}  // namespace

TEST_CASE("torch_ref.py times PyTorch and counts the FLOPs gler_bench counts") {
  gler::test::require_torch("torch, torchvision");
  struct Case {
    const char* torch;
    const char* gler;
  };
  for (const Case c : {Case{"rnet --runs 2 --warmup 1", "--model rnet"},
                       Case{"sphere20a --faces 2 --train --flops", "--model sphere20a --faces 2 --train"},
                       Case{"tidy_attention_c --faces 2 --runs 1 --warmup 0", "--model attention_c --layout seed --faces 2"}}) {
    CAPTURE(c.torch);
    const gler::json::Value t = torch_ref(c.torch), g = gler_bench(c.gler);
    CHECK(t.at("batch").as_number() == g.at("batch").as_number());
    CHECK(t.at("train").as_bool() == g.at("train").as_bool());
    CHECK(std::abs(t.at("gflop").as_number() - g.at("gflop").as_number()) <= 0.01 * g.at("gflop").as_number());
    if (!std::string(c.torch).ends_with("--flops")) {
      check_timing_fields(t);
      CHECK(t.at("gflop_per_s").as_number() > 0);
    }
  }
  if (const char* seed_mtcnn = std::getenv("GLER_SEED_MTCNN")) {
    const gler::json::Value p = torch_ref(std::string("pipeline --photos ") + GLER_SOURCE_DIR + "/data/photos --seed-mtcnn " +
                                          seed_mtcnn + " --warm-mtcnn --runs 1 --warmup 0");
    check_timing_fields(p);
    CHECK(p.at("photos").as_number() == 3);
    CHECK(p.at("faces").as_number() == 2 + 0 + 15);  // as gler_bench --pipeline finds them (test_bench_cli)
  } else {
    MESSAGE("the seed's pipeline not run: set GLER_SEED_MTCNN to the seed's MTCNN folder");
  }
}
