// gler_infer end to end on the bundled photos with randomly initialised models (gler_import
// --init): the JSON and CSV say what docs/CLI.md says, the annotated pictures are valid PNGs,
// reading gler_faces' crops (--aligned-faces) gives the logits of detecting in the same run (to
// float32 rounding), and bad inputs give `error:` lines and the documented exit codes.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "io/image.h"
#include "io/json.h"
#include "tests/support/run_cli.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using gler::json::Value;

namespace {

const fs::path kSource = GLER_SOURCE_DIR;
const fs::path kPhotos = kSource / "data" / "photos";
const gler::test::TempDir kScratch("gler_infer_cli");
const fs::path& kTmp = kScratch.path();
const std::string kBin = GLER_BIN_DIR;

using Run = gler::test::CliRun;

std::string q(const fs::path& p) {
  std::string quoted = "'";
  return quoted.append(p.string()).append("'");
}

Run infer(const std::string& args) { return gler::test::run_cli(kBin + "/gler_infer --device cpu --no-progress " + args); }

// A randomly initialised model, written once per (arch, flags).
fs::path model(const std::string& arch, const std::string& flags = "") {
  static std::map<std::string, fs::path> made;
  const std::string key = arch + flags;
  if (auto it = made.find(key); it != made.end()) return it->second;
  const fs::path path = kTmp / ("model_" + std::to_string(made.size()) + ".safetensors");
  const Run r = gler::test::run_cli(kBin + "/gler_import --init " + arch + " " + flags + " -o " + q(path));
  INFO(r.out);
  REQUIRE(r.status == 0);
  return made[key] = path;
}

// stdout only: the JSON starts at the first '['.
Value parse_output(const Run& r) {
  INFO(r.out);
  const std::size_t start = r.out.find("\n[");
  REQUIRE((r.out.rfind("[", 0) == 0 || start != std::string::npos));
  return gler::json::parse(r.out.substr(r.out.rfind("[", 0) == 0 ? 0 : start + 1));
}

void check_prediction(const Value& p) {
  CAPTURE(gler::json::dump(p));
  CHECK(p.at("error").is_null());
  const std::string label = p.at("label").as_string();
  CHECK((label == "Negative" || label == "Neutral" || label == "Positive"));
  double sum = 0, best = -1;
  std::string arg;
  for (const char* c : {"Negative", "Neutral", "Positive"}) {
    const double v = p.at("probs").at(c).as_number();
    CHECK(v >= 0);
    sum += v;
    if (v > best) best = v, arg = c;
  }
  CHECK(std::abs(sum - 1) < 1e-9);
  CHECK(arg == label);
  CHECK(p.at("logits").as_array().size() == 3);
  CHECK(p.at("faces_used").as_int() <= p.at("faces_found").as_int());
}

std::string photos() { return q(kPhotos / "ipazc_ivan.jpg") + " " + q(kPhotos / "ipazc_no-faces.jpg") + " " + q(kPhotos / "solvay_1927_gray.jpg"); }

std::vector<double> logits(const Value& p) {
  std::vector<double> out;
  for (const Value& v : p.at("logits").as_array()) out.push_back(v.as_number());
  return out;
}

}  // namespace

TEST_CASE("an attention model on the bundled photos: JSON, attention weights, annotated PNGs") {
  const fs::path annotate = kTmp / "annotated";
  const Run r = infer("--model " + q(model("attention_c")) + " --batch 2 --annotate " + q(annotate) + " " + photos());
  REQUIRE(r.status == 0);
  const Value out = parse_output(r);
  REQUIRE(out.as_array().size() == 3);
  for (const Value& p : out.as_array()) check_prediction(p);
  const Value& ivan = out.as_array()[0];
  CHECK(ivan.at("image").as_string().find("ipazc_ivan.jpg") != std::string::npos);
  CHECK(ivan.at("faces_found").as_int() >= 1);
  double attention = 0;
  for (const Value& f : ivan.at("faces").as_array()) {
    CHECK(f.at("box").as_array().size() == 4);
    CHECK(f.at("landmarks").as_array().size() == 5);
    if (f.at("used").as_bool()) attention += f.at("attention").as_number();
  }
  CHECK(std::abs(attention - 1) < 1e-5);
  CHECK(out.as_array()[1].at("faces_found").as_int() == 0);
  CHECK(out.as_array()[1].at("faces").as_array().empty());
  CHECK(out.as_array()[2].at("faces_found").as_int() > 15);  // Solvay 1927: more faces than slots
  CHECK(out.as_array()[2].at("faces_used").as_int() == 15);
  for (const char* stem : {"ipazc_ivan", "ipazc_no-faces", "solvay_1927_gray"}) {
    const fs::path png = annotate / (std::string(stem) + ".png");
    CAPTURE(png);
    REQUIRE(fs::exists(png));
    const gler::io::Image picture = gler::io::read_image(png.string()),
                          photo = gler::io::read_image((kPhotos / (std::string(stem) + ".jpg")).string());
    CHECK(picture.width == photo.width);
    CHECK(picture.height == photo.height);
    CHECK(picture.channels == 3);
  }
}

TEST_CASE("seed-mode models read gler_faces' crops and features as they detect them") {
  const fs::path faces_dir = kTmp / "faces";
  const Run f = gler::test::run_cli(kBin + "/gler_faces --device cpu --no-progress --seed-feature-indexing --out " +
                                    q(faces_dir) + " " + q(kPhotos));
  INFO(f.out);
  REQUIRE(f.status == 0);
  for (const std::string arch : {"local", "average", "attention_a"}) {
    CAPTURE(arch);
    const fs::path m = model(arch, "--seed-compat");
    const Value detected = parse_output(infer("--model " + q(m) + " " + q(kPhotos)));
    const Value read = parse_output(infer("--model " + q(m) + " --aligned-faces " + q(faces_dir) + " " + q(kPhotos)));
    REQUIRE(detected.as_array().size() == 3);
    REQUIRE(read.as_array().size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
      check_prediction(read.as_array()[i]);
      // Equal up to float32 rounding: on this project's Sapphire Rapids VM (OpenBLAS falls back to
      // its Prescott kernels there) the two runs were bit-identical alone but an ulp apart under
      // a loaded ctest, a timing dependence not yet traced (see the issue notes).
      const std::vector<double> a = logits(read.as_array()[i]), b = logits(detected.as_array()[i]);
      REQUIRE(a.size() == b.size());
      for (std::size_t k = 0; k < a.size(); ++k) CHECK(std::abs(a[k] - b[k]) <= 1e-5 * std::max(1.0, std::abs(b[k])));
      CHECK(read.as_array()[i].at("faces_used").as_int() == detected.as_array()[i].at("faces_used").as_int());
    }
    // Read crops have no boxes.
    CHECK(read.as_array()[0].at("faces").as_array()[0].find("box") == nullptr);
  }
}

TEST_CASE("a global model needs no faces; CSV to a file; --max-faces; a local model on zero faces") {
  const fs::path csv = kTmp / "out.csv";
  const Run r = infer("--model " + q(model("global")) + " --format csv --out " + q(csv) + " " + photos());
  INFO(r.out);
  REQUIRE(r.status == 0);
  std::ifstream in(csv);
  std::string header, line;
  std::getline(in, header);
  CHECK(header == "image,label,p_negative,p_neutral,p_positive,logit_negative,logit_neutral,logit_positive,faces_found,faces_used,note,error");
  int rows = 0;
  while (std::getline(in, line)) {
    ++rows;
    CHECK(line.ends_with(",0,0,,"));  // no faces looked for, no note, no error
  }
  CHECK(rows == 3);

  const Value few = parse_output(infer("--model " + q(model("attention_c")) + " --max-faces 2 " + q(kPhotos / "solvay_1927_gray.jpg")));
  CHECK(few.as_array()[0].at("faces_used").as_int() == 2);
  // Zero faces: the seed's averaging gives zero logits, so equal probabilities and label Negative.
  const Value none = parse_output(infer("--model " + q(model("local")) + " " + q(kPhotos / "ipazc_no-faces.jpg")));
  CHECK(logits(none.as_array()[0]) == std::vector<double>{0, 0, 0});
  CHECK(none.as_array()[0].at("label").as_string() == "Negative");
}

TEST_CASE("a corrupt image is reported and the others go on (exit 1); bad arguments exit 2") {
  const fs::path dir = kTmp / "mixed";
  fs::create_directories(dir);
  fs::copy_file(kPhotos / "ipazc_ivan.jpg", dir / "a.jpg", fs::copy_options::overwrite_existing);
  std::ofstream(dir / "b.jpg") << "not a jpeg";
  {
    std::ifstream src(kPhotos / "ipazc_no-faces.jpg", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(src)), {});
    std::ofstream(dir / "c.jpg", std::ios::binary) << bytes.substr(0, bytes.size() / 2);  // truncated
  }
  fs::copy_file(kPhotos / "ipazc_no-faces.jpg", dir / "d.jpg", fs::copy_options::overwrite_existing);
  const Run r = infer("--model " + q(model("attention_c")) + " --batch 2 " + q(dir));
  CHECK(r.status == 1);
  CHECK(r.has("error: " + (dir / "b.jpg").string() + ": "));
  CHECK(r.has("error: " + (dir / "c.jpg").string()));
  const Value out = parse_output(r);
  REQUIRE(out.as_array().size() == 4);
  check_prediction(out.as_array()[0]);
  CHECK(out.as_array()[1].at("error").as_string().size() > 0);
  CHECK(out.as_array()[2].at("error").as_string().size() > 0);
  check_prediction(out.as_array()[3]);

  fs::create_directories(kTmp / "empty");
  std::ofstream(kTmp / "corrupt.safetensors") << "garbage";
  const std::string m = " --model " + q(model("attention_c")) + " ";
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"--model " + q(kTmp / "absent.safetensors") + " " + photos(), "absent.safetensors"},
      {"--model " + q(kTmp / "corrupt.safetensors") + " " + photos(), "corrupt.safetensors"},
      {"--model " + q(kSource / "data" / "mtcnn" / "mtcnn.safetensors") + " " + photos(), "mtcnn"},
      {m + q(kTmp / "empty"), "no images found"},
      {m + q(kTmp / "missing.jpg"), "no such file or folder"},
      {m, "no INPUT given"},
      {m + "--batch 0 " + photos(), "--batch must be at least 1"},
      {m + "--format xml " + photos(), "--format must be json or csv"},
      {m + "--aligned-faces " + q(kTmp / "nowhere") + " " + photos(), "not a folder"},
      {m + "--bogus " + photos(), "--bogus"},
  };
  for (const auto& [args, says] : bad) {
    CAPTURE(args);
    const Run b = infer(args);
    INFO(b.out);
    CHECK(b.status == 2);
    CHECK(b.has("error: "));
    CHECK(b.has(says));
  }
  const Run help = infer("--help");
  CHECK(help.status == 0);
  CHECK(help.has("--aligned-faces"));
}

TEST_CASE("gler_import --init: the same model for the same seed, clear errors for bad requests") {
  const fs::path a = kTmp / "init_a.safetensors", b = kTmp / "init_b.safetensors";
  for (const fs::path& p : {a, b}) {
    const Run r = gler::test::run_cli(kBin + "/gler_import --init local --seed 7 --seed-compat -o " + q(p));
    INFO(r.out);
    REQUIRE(r.status == 0);
    CHECK(r.has("arch local"));
  }
  std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
  const std::string bytes_a((std::istreambuf_iterator<char>(fa)), {}), bytes_b((std::istreambuf_iterator<char>(fb)), {});
  CHECK(bytes_a == bytes_b);
  CHECK(bytes_a.find("\"seed_compat\":\"1\"") != std::string::npos);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"--init densenet161 -o " + q(a), "densenet161"},
      {"--init local --local-head cosine -o " + q(a), "cosine"},
      {"--init attention_c --max-faces 0 -o " + q(a), "max_faces"},
      {"--init local " + q(a) + " -o " + q(b), "give no SRC"},
      {"--init local", "--output"},
  };
  for (const auto& [args, says] : bad) {
    CAPTURE(args);
    const Run r = gler::test::run_cli(kBin + "/gler_import " + args);
    INFO(r.out);
    CHECK(r.status == 2);
    CHECK(r.has("error: "));
    CHECK(r.has(says));
  }
}
