// The zero-shot default model (face-api's expressions -> valence, faces weighted by area) through
// gler_infer on the bundled photos: it runs end to end, says what it is, gives every used face its
// 7 expression probabilities and a weight, refuses to guess without faces, draws its pictures, and
// its outputs are the same from run to run. Its weights come from npm (scripts/fetch_face_expression.sh);
// where npm or the registry is unavailable the test says "skipped".
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "io/image.h"
#include "io/json.h"
#include "tests/support/run_cli.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using gler::json::Value;

TEST_CASE("the default model on the bundled photos") {
  const fs::path dest = fs::path(GLER_BIN_DIR).parent_path() / "face_expression";
  const std::string bin = GLER_BIN_DIR;
  const gler::test::CliRun fetch = gler::test::run_cli("GLER_IMPORT='" + bin + "/gler_import' '" + GLER_SOURCE_DIR +
                                                       "/scripts/fetch_face_expression.sh' '" + dest.string() + "'");
  if (fetch.status == 3) {
    MESSAGE("skipped: face-api's model is unavailable: " << fetch.out);
    return;
  }
  REQUIRE_MESSAGE(fetch.status == 0, fetch.out);
  const gler::test::TempDir dir("gler_infer_default");
  const std::string photos = std::string(GLER_SOURCE_DIR) + "/data/photos";
  std::string outputs[2];
  for (int run = 0; run < 2; ++run) {
    const fs::path out = dir.path() / ("run" + std::to_string(run) + ".json");
    const gler::test::CliRun r = gler::test::run_cli(bin + "/gler_infer --device cpu --no-progress --model '" +
                                                     (dest / "face_expression.safetensors").string() + "' --annotate '" +
                                                     (dir.path() / "annotated").string() + "' --out '" + out.string() +
                                                     "' '" + photos + "'");
    INFO(r.out);
    REQUIRE(r.status == 0);
    std::ifstream in(out);
    outputs[run].assign(std::istreambuf_iterator<char>(in), {});
  }
  CHECK(outputs[0] == outputs[1]);  // stable from run to run

  const Value v = gler::json::parse(outputs[0]);
  REQUIRE(v.as_array().size() == 3);
  for (const Value& p : v.as_array()) {
    CAPTURE(p.at("image").as_string());
    CHECK(p.at("note").as_string().find("zero-shot default") != std::string::npos);
    double sum = 0;
    for (const char* c : {"Negative", "Neutral", "Positive"}) sum += p.at("probs").at(c).as_number();
    CHECK(std::abs(sum - 1) < 1e-6);
    double weights = 0;
    for (const Value& f : p.at("faces").as_array()) {
      if (!f.at("used").as_bool()) continue;
      weights += f.at("weight").as_number();
      double e = 0;
      for (const char* k : {"neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised"})
        e += f.at("expression").at(k).as_number();
      CHECK(std::abs(e - 1) < 1e-5);
    }
    if (p.at("faces_used").as_int() > 0) CHECK(std::abs(weights - 1) < 1e-5);
  }
  // No faces: no guess.
  const Value& none = v.as_array()[1];
  CHECK(none.at("faces").as_array().empty());
  CHECK(none.at("label").as_string() == "Neutral");
  CHECK(none.at("probs").at("Positive").as_number() == doctest::Approx(1.0 / 3));
  CHECK(none.at("note").as_string().find("no faces found") != std::string::npos);
  CHECK(v.as_array()[2].at("faces_used").as_int() == 29);  // the default's slots hold the Solvay crowd
  for (const char* stem : {"ipazc_ivan", "ipazc_no-faces", "solvay_1927_gray"})
    CHECK(gler::io::read_image((dir.path() / "annotated" / (std::string(stem) + ".png")).string()).channels == 3);

  // Its crops come from the boxes: crops read from a folder are refused, per image.
  const gler::test::CliRun aligned = gler::test::run_cli(bin + "/gler_infer --no-progress --model '" +
                                                         (dest / "face_expression.safetensors").string() + "' --aligned-faces '" +
                                                         dir.path().string() + "' '" + photos + "/ipazc_ivan.jpg'");
  CHECK(aligned.status == 1);
  CHECK(aligned.has("cannot read --aligned-faces crops"));
}
