// The whole trainer end to end on CPU: gler_synth writes a synthetic EmotiW dataset, gler_train
// trains the tiny config on it from scratch, and the best model must reach 90% validation
// accuracy; gler_infer then reads best.safetensors with no conversion, and its labels on the
// validation photos (from the same face cache) agree with the accuracy the trainer measured, and
// so does gler_ensemble on the validation outputs the run wrote.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "io/json.h"
#include "tests/support/temp_dir.h"
#include "tests/train/cli/train_cli_support.h"
#include "train/report/training_log.h"

namespace fs = std::filesystem;
using namespace gler;

namespace {
const test::TempDir kScratch("gler_train_e2e");
const fs::path& kTmp = kScratch.path();
constexpr const char* kTinyConfig = "tiny_local";
}  // namespace

TEST_CASE("gler_synth + gler_train (tiny config) reach 90% validation accuracy; gler_infer and gler_ensemble read what it wrote") {
  const fs::path data = kTmp / "data", run = kTmp / "run";
  // Every photo shows faces (--faceless 0): the tiny config is a Local model, which sees only faces
  // and gives a faceless photo zero logits (SEED_SPEC §4.4), so it could not learn that those are Neutral.
  test::make_dataset(data, GLER_E2E_TRAIN, GLER_E2E_VAL, 7, "--faceless 0");
  const test::CliRun r = test::train_cli("--config " + test::config_path(kTinyConfig) + " --data " + data.string() +
                                         " --out " + run.string());
  REQUIRE_MESSAGE(r.status == 0, r.out);
  MESSAGE(r.out);

  const std::vector<train::EpochRecord> log = train::read_training_log(run / "log.jsonl");
  REQUIRE(!log.empty());
  double best = 0;
  for (const train::EpochRecord& e : log) best = std::max(best, e.val_accuracy);
  CHECK(best >= 0.90);
  CHECK(fs::exists(run / "curves.svg"));
  const json::Value confusion = json::parse_file((run / "confusion.json").string());
  CHECK(confusion.at("accuracy").as_number() == doctest::Approx(best));

  // gler_infer on the val photos with the cached crops; on VAL (val_list) its labels give the best
  // epoch's accuracy.
  std::set<std::string> val;
  std::ifstream names(data / "val_list.txt");
  for (std::string name; std::getline(names, name);)
    if (!name.empty()) val.insert(name);
  const test::CliRun infer = test::run_cli(
      test::tool("gler_infer") + " --device cpu --no-progress --model " + (run / "best.safetensors").string() +
      " --aligned-faces " + (data / "AlignedCroppedImages" / "val").string() + " " + (data / "emotiw" / "val").string() +
      " --out " + (kTmp / "val.json").string());
  REQUIRE_MESSAGE(infer.status == 0, infer.out);
  const json::Value out = json::parse_file((kTmp / "val.json").string());
  std::size_t seen = 0, correct = 0;
  for (const json::Value& item : out.as_array()) {
    const fs::path image = item.at("image").as_string();
    if (!val.contains(image.filename().string())) continue;
    ++seen;
    correct += item.at("label").as_string() == image.parent_path().filename().string();
  }
  REQUIRE(seen == val.size());
  CHECK(static_cast<double>(correct) / static_cast<double>(seen) == doctest::Approx(best).epsilon(1e-9));

  // gler_ensemble reads the run's validation outputs as they are: one model, the same accuracy.
  const test::CliRun ensemble =
      test::run_cli(test::tool("gler_ensemble") + " --inputs " + (run / "val_outputs.json").string() + " --labels " +
                    (run / "val_labels.csv").string() + " --mode mean");
  REQUIRE_MESSAGE(ensemble.status == 0, ensemble.out);
  const std::size_t at = ensemble.out.find("accuracy: ");
  REQUIRE(at != std::string::npos);
  CHECK(std::stod(ensemble.out.substr(at + 10)) == doctest::Approx(best).epsilon(1e-9));
}
