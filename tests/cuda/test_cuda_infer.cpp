// gler_infer with --device cuda against --device cpu on the bundled photos, for a randomly
// initialised model of each kind of face input (aligned crops: attention_c, O-Net features:
// average): the same faces, the same labels, logits within 1e-3 (relative to max(1, |logit|)).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>

#include "io/json.h"
#include "tests/support/run_cli.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;

TEST_CASE("gler_infer on cuda:0 gives the CPU's labels") {
  const gler::test::TempDir dir("gler_cuda_infer");
  const std::string bin = GLER_BIN_DIR, photos = std::string(GLER_SOURCE_DIR) + "/data/photos";
  for (const std::string arch : {"attention_c", "average"}) {
    CAPTURE(arch);
    const fs::path model = dir.path() / (arch + ".safetensors");
    REQUIRE(gler::test::run_cli(bin + "/gler_import --init " + arch + " -o '" + model.string() + "'").status == 0);
    gler::json::Value out[2];
    const char* devices[2] = {"cpu", "cuda:0"};
    for (int d = 0; d < 2; ++d) {
      const fs::path json = dir.path() / (arch + devices[d][0] + ".json");
      const gler::test::CliRun r = gler::test::run_cli(bin + "/gler_infer --no-progress --device " + devices[d] + " --model '" +
                                                       model.string() + "' --out '" + json.string() + "' '" + photos + "'");
      INFO(r.out);
      REQUIRE(r.status == 0);
      out[d] = gler::json::parse_file(json.string());
    }
    REQUIRE(out[0].as_array().size() == out[1].as_array().size());
    for (std::size_t i = 0; i < out[0].as_array().size(); ++i) {
      const gler::json::Value &a = out[0].as_array()[i], &b = out[1].as_array()[i];
      CAPTURE(a.at("image").as_string());
      CHECK(a.at("faces_found").as_int() == b.at("faces_found").as_int());
      CHECK(a.at("label").as_string() == b.at("label").as_string());
      for (std::size_t c = 0; c < 3; ++c) {
        const double x = a.at("logits").as_array()[c].as_number(), y = b.at("logits").as_array()[c].as_number();
        CHECK(std::abs(x - y) / std::max(1.0, std::abs(x)) <= 1e-3);
      }
    }
  }
}
