// Every arch from the seed's own checkpoint format to gler_infer's logits, against PyTorch:
// tests/pipeline/seed_e2e.py builds each seed model (tests/models/seed_models.py) with random
// weights, pickles it as torch 0.4 saved the seed's files (a whole DataParallel module, legacy
// format, the seed's class names; the fusion models' face CNN named non_align_model, torchvision
// 0.2.1's norm.1 names) and runs the seed's forward on the seed's inputs; here gler_import converts
// each file and gler_infer runs it on the same photos and crops (--aligned-faces): three photos with
// 3, 0 and 17 faces (more than the 15 slots), the last one greyscale (the seed's red-channel
// normalisation). Logits within 1e-3 (relative to max(1, |logit|)), attention weights within 1e-4.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>

#include "io/json.h"
#include "tests/support/run_cli.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using gler::json::Value;

namespace {

std::string q(const fs::path& p) {
  std::string quoted = "'";
  return quoted.append(p.string()).append("'");
}

}  // namespace

TEST_CASE("seed-format checkpoints of every arch: gler_import + gler_infer give PyTorch's logits") {
  const gler::test::TempDir dir("gler_infer_seed_parity");
  const fs::path& tmp = dir.path();
  const fs::path photos = fs::path(GLER_SOURCE_DIR) / "data" / "photos";
  const fs::path ivan = photos / "ipazc_ivan.jpg", none = photos / "ipazc_no-faces.jpg", solvay = photos / "solvay_1927_gray.jpg";
  const std::string bin = GLER_BIN_DIR;
  const gler::test::CliRun made = gler::test::run_cli(std::string(GLER_PYTHON) + " " +
                                                      q(fs::path(GLER_SOURCE_DIR) / "tests" / "pipeline" / "seed_e2e.py") + " " +
                                                      q(tmp) + " " + q(ivan) + ":3 " + q(none) + ":0 " + q(solvay) + ":17");
  INFO(made.out);
  REQUIRE(made.status == 0);
  const Value expected = gler::json::parse_file((tmp / "expected.json").string());
  REQUIRE(expected.as_object().size() == 9);
  for (const auto& [name, want] : expected.as_object()) {
    CAPTURE(name);
    const fs::path pt = tmp / (name + ".pt"), model = tmp / (name + ".safetensors"), out = tmp / (name + ".json");
    const gler::test::CliRun imported = gler::test::run_cli(bin + "/gler_import " + q(pt) + " -o " + q(model));
    INFO(imported.out);
    REQUIRE(imported.status == 0);
    CHECK(imported.has("arch " + want.at("arch").as_string()));
    fs::remove(pt);
    const gler::test::CliRun run = gler::test::run_cli(bin + "/gler_infer --device cpu --no-progress --model " + q(model) +
                                                       " --aligned-faces " + q(tmp / "crops") + " --out " + q(out) + " " +
                                                       q(ivan) + " " + q(none) + " " + q(solvay));
    INFO(run.out);
    REQUIRE(run.status == 0);
    fs::remove(model);
    const Value got = gler::json::parse_file(out.string());
    REQUIRE(got.as_array().size() == 3);
    // A global model looks at no faces.
    const std::vector<int> used = want.at("arch").as_string() == "global" ? std::vector<int>{0, 0, 0} : std::vector<int>{3, 0, 15};
    for (std::size_t b = 0; b < 3; ++b) {
      CAPTURE(b);
      const Value& p = got.as_array()[b];
      CHECK(p.at("faces_used").as_int() == used[b]);
      double worst = 0;
      for (std::size_t c = 0; c < 3; ++c) {
        const double ours = p.at("logits").as_array()[c].as_number(), theirs = want.at("logits").as_array()[b].as_array()[c].as_number();
        worst = std::max(worst, std::abs(ours - theirs) / std::max(1.0, std::abs(theirs)));
      }
      CAPTURE(worst);
      CHECK(worst <= 1e-3);
      if (want.at("attention").is_null()) {
        for (const Value& f : p.at("faces").as_array()) CHECK(f.find("attention") == nullptr);
        continue;
      }
      const gler::json::Array& faces = p.at("faces").as_array();
      const gler::json::Array& weights = want.at("attention").as_array()[b].as_array();
      for (std::size_t i = 0; i < weights.size(); ++i) {
        CAPTURE(i);
        const double theirs = weights[i].as_number();
        if (i < static_cast<std::size_t>(used[b])) CHECK(std::abs(faces[i].at("attention").as_number() - theirs) <= 1e-4);
        else CHECK(theirs == 0.0);  // empty slots: PyTorch's weight is 0, and gler lists no face there
      }
    }
  }
}
