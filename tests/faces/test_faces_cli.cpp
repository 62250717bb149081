// gler_faces end to end: the bundled photos (and ../shared's, when present) give the seed's
// reference detections and aligned crops; corrupt images are reported and the rest go on;
// --resume skips completed images; an EmotiW tree gets the seed's layout, read back with numpy;
// bad arguments exit 2.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "io/image.h"
#include "io/json.h"
#include "tests/support/run_cli.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using gler::json::Value;

namespace {

const fs::path kSource = GLER_SOURCE_DIR;
const fs::path kPhotos = kSource / "data" / "photos";
const fs::path kReference = kSource / "data" / "reference" / "mtcnn";
const fs::path kShared = GLER_SHARED_DIR;

const gler::test::TempDir kScratch("gler_faces_cli");
const fs::path& kTmp = kScratch.path();

using Run = gler::test::CliRun;

// The CPU keeps the test independent of whether this machine has a GPU.
Run faces(const std::string& args) {
  return gler::test::run_cli(std::string(GLER_BIN_DIR) + "/gler_faces --device cpu --no-progress " + args);
}

// A path quoted for the shell.
std::string q(const fs::path& p) {
  std::string quoted = "'";
  quoted += p.string();
  quoted += '\'';
  return quoted;
}

void copy_photo(const std::string& stem, const fs::path& to) {
  fs::create_directories(to.parent_path());
  fs::copy_file(kPhotos / (stem + ".jpg"), to, fs::copy_options::overwrite_existing);
}

std::vector<double> numbers(const Value& array) {
  std::vector<double> out;
  for (const Value& v : array.as_array()) out.push_back(v.as_number());
  return out;
}

// Boxes are inclusive [x1, y1, x2, y2] (data/reference/mtcnn/README.md).
double iou(const std::vector<double>& a, const std::vector<double>& b) {
  const double w = std::max(0.0, std::min(a[2], b[2]) - std::max(a[0], b[0]) + 1);
  const double h = std::max(0.0, std::min(a[3], b[3]) - std::max(a[1], b[1]) + 1);
  const double inter = w * h;
  const double area_a = (a[2] - a[0] + 1) * (a[3] - a[1] + 1), area_b = (b[2] - b[0] + 1) * (b[3] - b[1] + 1);
  return inter / (area_a + area_b - inter);
}

// Our crop against the reference PNG: the same size, within 2 grey levels, mean difference < 0.5,
// when our box and landmarks are the reference's values bit for bit. Otherwise (`ulp_slack`) they
// differ by ulps: OpenBLAS and oneDNN pick their kernels by CPU model, and their rounding moves
// R-Net's and O-Net's outputs by an ulp or two; the crop and cv2's warp quantise positions (to
// pixels and to 1/32 px), so a value an ulp away can move a tap across a grid line, and on a sharp
// edge a few values (at most 0.1%) then differ by more than 2 (a 1/32 px shift of a 255-level
// edge: up to 8).
void check_crop(const fs::path& ours, const fs::path& reference, bool ulp_slack) {
  CAPTURE(ours);
  REQUIRE(fs::exists(ours));
  const gler::io::Image a = gler::io::read_image(ours.string()), b = gler::io::read_image(reference.string());
  REQUIRE(a.width == b.width);
  REQUIRE(a.height == b.height);
  REQUIRE(a.channels == 3);
  REQUIRE(b.channels == 3);
  int max_diff = 0;
  std::size_t above_2 = 0;
  double sum = 0;
  for (std::size_t i = 0; i < a.pixels.size(); ++i) {
    const int d = std::abs(int(a.pixels[i]) - int(b.pixels[i]));
    max_diff = std::max(max_diff, d);
    above_2 += d > 2;
    sum += d;
  }
  CHECK(sum / static_cast<double>(a.pixels.size()) < 0.5);
  if (!ulp_slack) {
    CHECK(max_diff <= 2);
    return;
  }
  if (above_2 > 0) MESSAGE(ours.string() << ": " << above_2 << " values differ by more than 2 (largest " << max_diff << ")");
  CHECK(max_diff <= 8);
  CHECK(above_2 * 1000 <= a.pixels.size());
}

// One output JSON against the seed's reference detections (and, with `aligned`, its crops).
void check_against_reference(const fs::path& json, const fs::path& reference_json, const fs::path& aligned = {}) {
  CAPTURE(json);
  const Value ours = gler::json::parse_file(json.string()), ref = gler::json::parse_file(reference_json.string());
  CHECK(ours.at("error").is_null());
  CHECK(ours.at("width").as_int() == ref.at("width").as_int());
  CHECK(ours.at("height").as_int() == ref.at("height").as_int());
  CHECK(ours.at("mode").as_string() == ref.at("file_mode").as_string());
  const gler::json::Array &faces = ours.at("faces").as_array(), &ref_faces = ref.at("faces").as_array();
  REQUIRE(faces.size() == ref_faces.size());
  for (std::size_t i = 0; i < faces.size(); ++i) {
    CAPTURE(i);
    const std::vector<double> box = numbers(faces[i].at("box")), ref_box = numbers(ref_faces[i].at("box"));
    CHECK(iou(box, ref_box) >= 0.99);
    bool same_geometry = box == ref_box;
    CHECK(std::abs(faces[i].at("score").as_number() - ref_faces[i].at("score").as_number()) <= 1e-3);
    const gler::json::Array &lm = faces[i].at("landmarks").as_array(), &ref_lm = ref_faces[i].at("landmarks").as_array();
    REQUIRE(lm.size() == 5);
    for (std::size_t k = 0; k < 5; ++k) {
      const std::vector<double> p = numbers(lm[k]), r = numbers(ref_lm[k]);
      same_geometry = same_geometry && p == r;
      CHECK(std::abs(p[0] - r[0]) <= 0.5);
      CHECK(std::abs(p[1] - r[1]) <= 0.5);
      // Landmarks are float32 values; the JSON must hold them exactly.
      CHECK(static_cast<double>(static_cast<float>(p[0])) == p[0]);
      CHECK(static_cast<double>(static_cast<float>(p[1])) == p[1]);
    }
    if (!aligned.empty()) {
      const fs::path crop = json.parent_path() / faces[i].at("crop").as_string();
      check_crop(crop, aligned / (json.stem().string() + "_" + std::to_string(i) + ".png"), !same_geometry);
    }
  }
}

// numpy's view of some npz files: {file: {name: {"dtype", "shape", "values"}}}, values as Python reprs.
Value numpy_load(const std::vector<fs::path>& files) {
  const fs::path script = kTmp / "load.py";
  std::ofstream(script) << R"(import json, sys
import numpy as np
out = {}
for path in sys.argv[1:]:
    with np.load(path, allow_pickle=False) as f:
        out[path] = {k: {"dtype": f[k].dtype.str, "shape": list(f[k].shape),
                         "values": [repr(float(v)) for v in f[k].reshape(-1)]} for k in f.files}
print(json.dumps(out))
)";
  std::string command = std::string(GLER_PYTHON) + " " + q(script);
  for (const fs::path& f : files) command += ' ' + q(f);
  const Run r = gler::test::run_cli(command);
  INFO(r.out);
  REQUIRE(r.status == 0);
  return gler::json::parse(r.out);
}

void check_shape(const Value& array, const std::string& dtype, std::vector<long long> shape) {
  CHECK(array.at("dtype").as_string() == dtype);
  std::vector<long long> s;
  for (const Value& d : array.at("shape").as_array()) s.push_back(d.as_int());
  CHECK(s == shape);
}

double value(const Value& array, std::size_t i) { return std::stod(array.at("values").as_array().at(i).as_string()); }

}  // namespace

TEST_CASE("gler_faces: the bundled photos give the seed's detections and aligned crops") {
  const fs::path out = kTmp / "bundled";
  const Run r = faces(q(kPhotos) + " --out " + q(out) + " --crop-format png");
  INFO(r.out);
  REQUIRE(r.status == 0);
  CHECK(r.has("gler_faces: 3 images: 3 done, 0 skipped (resumed), 0 failed; 31 faces"));
  for (const std::string stem : {"ipazc_ivan", "ipazc_no-faces", "solvay_1927_gray"}) {
    CAPTURE(stem);
    check_against_reference(out / (stem + ".json"), kReference / "detections" / (stem + ".json"), kReference / "aligned");
    const Value json = gler::json::parse_file((out / (stem + ".json")).string());
    CHECK(json.at("image").as_string() == (kPhotos / (stem + ".jpg")).string());
    CHECK(json.at("settings").at("align").as_string() == "seed");
    CHECK(json.at("features").as_string() == stem + ".npz");
    // No crop beyond the faces.
    const std::size_t n = json.at("faces").as_array().size();
    CHECK_FALSE(fs::exists(out / (stem + "_" + std::to_string(n) + ".png")));
  }
  const Value npz = numpy_load({out / "ipazc_ivan.npz", out / "ipazc_no-faces.npz", out / "solvay_1927_gray.npz"});
  check_shape(npz.at((out / "ipazc_ivan.npz").string()).at("a"), "<f4", {2, 256});
  check_shape(npz.at((out / "ipazc_no-faces.npz").string()).at("a"), "<f4", {0, 256});
  check_shape(npz.at((out / "solvay_1927_gray.npz").string()).at("a"), "<f4", {29, 256});
}

TEST_CASE("gler_faces: JPEG crops by default, sphereface crops 96 wide x 112 high, --no-crops, one worker") {
  const fs::path out = kTmp / "modes";
  const fs::path photo = kPhotos / "ipazc_ivan.jpg";
  REQUIRE(faces(q(photo) + " --out " + q(out / "jpg") + " --workers 1").status == 0);
  const gler::io::Image seed = gler::io::read_image((out / "jpg" / "ipazc_ivan_0.jpg").string());
  CHECK(seed.width == 112);
  CHECK(seed.height == 96);

  REQUIRE(faces(q(photo) + " --out " + q(out / "sphere") + " --align sphereface").status == 0);
  const gler::io::Image sphere = gler::io::read_image((out / "sphere" / "ipazc_ivan_1.jpg").string());
  CHECK(sphere.width == 96);
  CHECK(sphere.height == 112);
  const Value js = gler::json::parse_file((out / "sphere" / "ipazc_ivan.json").string());
  CHECK(js.at("settings").at("align").as_string() == "sphereface");

  REQUIRE(faces(q(photo) + " --out " + q(out / "none") + " --no-crops").status == 0);
  CHECK(fs::exists(out / "none" / "ipazc_ivan.npz"));
  CHECK_FALSE(fs::exists(out / "none" / "ipazc_ivan_0.jpg"));
  const Value jn = gler::json::parse_file((out / "none" / "ipazc_ivan.json").string());
  CHECK(jn.at("faces").as_array().size() == 2);
  CHECK(jn.at("faces").as_array()[0].find("crop") == nullptr);

  // Detections do not depend on the worker count, nor on the crop settings.
  const Value jj = gler::json::parse_file((out / "jpg" / "ipazc_ivan.json").string());
  CHECK(gler::json::dump(jj.at("faces").as_array()[0].at("box")) == gler::json::dump(jn.at("faces").as_array()[0].at("box")));
  CHECK(gler::test::slurp(out / "jpg" / "ipazc_ivan.npz") == gler::test::slurp(out / "none" / "ipazc_ivan.npz"));
}

TEST_CASE("gler_faces: the dlib photos of ../shared give the seed's detections") {
  const fs::path photos = kShared / "data" / "photos", reference = kShared / "data" / "reference" / "mtcnn";
  if (!fs::exists(photos) || !fs::exists(reference / "detections")) {
    MESSAGE("skipped: " << photos.string() << " not found");
    return;
  }
  std::string inputs;
  std::vector<std::string> stems;
  for (const auto& e : fs::directory_iterator(photos))
    if (e.path().filename().string().rfind("dlib_", 0) == 0 && e.path().extension() == ".jpg") {
      inputs += ' ' + q(e.path());
      stems.push_back(e.path().stem().string());
    }
  REQUIRE(!stems.empty());
  const fs::path out = kTmp / "shared";
  const Run r = faces(inputs + " --out " + q(out) + " --crop-format png");
  INFO(r.out);
  REQUIRE(r.status == 0);
  for (const std::string& stem : stems) {
    CAPTURE(stem);
    const fs::path aligned = reference / "aligned";
    check_against_reference(out / (stem + ".json"), reference / "detections" / (stem + ".json"),
                            fs::exists(aligned / (stem + "_0.png")) ? aligned : fs::path());
  }
}

TEST_CASE("gler_faces: corrupt images are reported, the rest are done; --resume skips what is complete") {
  const fs::path in = kTmp / "mixed_in", out = kTmp / "mixed_out";
  copy_photo("ipazc_no-faces", in / "a" / "one.jpg");
  copy_photo("ipazc_no-faces", in / "b" / "one.jpg");  // same stem in another folder: no collision
  copy_photo("ipazc_ivan", in / "b" / "two.JPG");
  const std::string good = gler::test::slurp(kPhotos / "ipazc_ivan.jpg");
  fs::create_directories(in / "bad");
  std::ofstream(in / "bad" / "truncated.jpg", std::ios::binary) << good.substr(0, good.size() / 3);
  std::ofstream(in / "bad" / "junk.png", std::ios::binary) << "this is not an image at all";

  const Run r = faces(q(in) + " --out " + q(out));
  INFO(r.out);
  CHECK(r.status == 1);
  CHECK(r.has("error: " + (in / "bad" / "truncated.jpg").string()));
  CHECK(r.has("error: " + (in / "bad" / "junk.png").string()));
  CHECK(r.has("5 images: 3 done, 0 skipped (resumed), 2 failed; 2 faces"));
  for (const char* bad : {"bad/truncated.json", "bad/junk.json"}) {
    CAPTURE(bad);
    const Value j = gler::json::parse_file((out / bad).string());
    CHECK(j.at("error").is_string());
    CHECK(!j.at("error").as_string().empty());
    CHECK(j.at("faces").as_array().empty());
  }
  CHECK_FALSE(fs::exists(out / "bad" / "truncated.npz"));
  for (const char* ok : {"a/one.json", "b/one.json", "b/two.json"}) {
    CAPTURE(ok);
    CHECK(gler::json::parse_file((out / ok).string()).at("error").is_null());
  }
  check_against_reference(out / "b" / "two.json", kReference / "detections" / "ipazc_ivan.json");
  CHECK(fs::exists(out / "b" / "two_1.jpg"));

  // --resume: the three good images are skipped (their JSON is not rewritten), the failed ones retried.
  const auto written = fs::last_write_time(out / "b" / "two.json");
  const Run again = faces(q(in) + " --out " + q(out) + " --resume");
  INFO(again.out);
  CHECK(again.status == 1);
  CHECK(again.has("5 images: 0 done, 3 skipped (resumed), 2 failed; 0 faces"));
  CHECK(fs::last_write_time(out / "b" / "two.json") == written);

  // An incomplete image (a crop gone) and other settings are redone.
  fs::remove(out / "b" / "two_1.jpg");
  const Run partial = faces(q(in / "b") + " --out " + q(out / "b") + " --resume");
  INFO(partial.out);
  CHECK(partial.status == 0);
  CHECK(partial.has("2 images: 1 done, 1 skipped (resumed), 0 failed; 2 faces"));
  CHECK(fs::exists(out / "b" / "two_1.jpg"));
  const Run other = faces(q(in / "b") + " --out " + q(out / "b") + " --resume --min-face 40");
  INFO(other.out);
  CHECK(other.has("2 images: 2 done, 0 skipped (resumed), 0 failed"));
}

TEST_CASE("gler_faces: two images with one output name: the second is an error, the first is kept") {
  const fs::path in = kTmp / "clash_in", out = kTmp / "clash_out";
  copy_photo("ipazc_no-faces", in / "x.jpg");
  copy_photo("ipazc_no-faces", in / "x.png");  // the format comes from the bytes
  const Run r = faces(q(in) + " --out " + q(out));
  INFO(r.out);
  CHECK(r.status == 1);
  CHECK(r.has("error: " + (in / "x.png").string()));
  CHECK(r.has("already written for " + (in / "x.jpg").string()));
  CHECK(gler::json::parse_file((out / "x.json").string()).at("image").as_string() == (in / "x.jpg").string());
}

TEST_CASE("gler_faces: an EmotiW tree gets the seed's layout") {
  const fs::path root = kTmp / "Dataset";
  copy_photo("ipazc_ivan", root / "emotiw" / "train" / "Positive" / "pos_1.jpg");
  copy_photo("ipazc_no-faces", root / "emotiw" / "val" / "Negative" / "neg_2.jpg");
  copy_photo("ipazc_ivan", root / "emotiw" / "test_shared" / "test" / "test_3.jpg");
  // The seed's own use: outputs beside emotiw/ in the dataset root.
  const Run r = faces(q(root) + " --out " + q(root));
  INFO(r.out);
  REQUIRE(r.status == 0);
  CHECK(r.has("3 images: 3 done"));

  for (const char* f : {"FaceJson/train/Positive/pos_1.json", "FaceJson/val/Negative/neg_2.json", "FaceJson/test/test_3.json",
                        "AlignedCroppedImages/train/Positive/pos_1_0.jpg", "AlignedCroppedImages/train/Positive/pos_1_1.jpg",
                        "AlignedCroppedImages/test/test_3_0.jpg", "AlignedCroppedImages/test/test_3_1.jpg"}) {
    CAPTURE(f);
    CHECK(fs::exists(root / f));
  }
  CHECK_FALSE(fs::exists(root / "AlignedCroppedImages" / "val" / "Negative" / "neg_2_0.jpg"));
  const gler::io::Image crop = gler::io::read_image((root / "AlignedCroppedImages/train/Positive/pos_1_0.jpg").string());
  CHECK(crop.width == 112);
  CHECK(crop.height == 96);
  check_against_reference(root / "FaceJson/train/Positive/pos_1.json", kReference / "detections" / "ipazc_ivan.json");

  const fs::path coords = root / "FaceCoordinates/train/Positive/pos_1.npz", feats = root / "FaceFeatures/train/Positive/pos_1.npz";
  const fs::path coords0 = root / "FaceCoordinates/val/Negative/neg_2.npz", feats0 = root / "FaceFeatures/val/Negative/neg_2.npz";
  const fs::path coords_test = root / "FaceCoordinates/test/test_3.npz", feats_test = root / "FaceFeatures/test/test_3.npz";
  const Value npz = numpy_load({coords, feats, coords0, feats0, coords_test, feats_test});
  const Value &a = npz.at(coords.string()).at("a"), &b = npz.at(coords.string()).at("b");
  check_shape(a, "<f8", {2, 5});
  check_shape(b, "<f4", {2, 10});
  check_shape(npz.at(feats.string()).at("a"), "<f4", {2, 256});
  check_shape(npz.at(coords0.string()).at("a"), "<f8", {0, 5});
  check_shape(npz.at(coords0.string()).at("b"), "<f4", {0, 10});
  check_shape(npz.at(feats0.string()).at("a"), "<f4", {0, 256});
  check_shape(npz.at(coords_test.string()).at("a"), "<f8", {2, 5});
  check_shape(npz.at(feats_test.string()).at("a"), "<f4", {2, 256});
  // a = [x1, y1, x2, y2, score], b = x's then y's: the JSON's numbers exactly.
  const Value json = gler::json::parse_file((root / "FaceJson/train/Positive/pos_1.json").string());
  for (std::size_t i = 0; i < 2; ++i) {
    const Value& face = json.at("faces").as_array()[i];
    const std::vector<double> box = numbers(face.at("box"));
    for (std::size_t k = 0; k < 4; ++k) CHECK(value(a, i * 5 + k) == box[k]);
    CHECK(value(a, i * 5 + 4) == face.at("score").as_number());
    for (std::size_t k = 0; k < 5; ++k) {
      const std::vector<double> p = numbers(face.at("landmarks").as_array()[k]);
      CHECK(value(b, i * 10 + k) == p[0]);
      CHECK(value(b, i * 10 + 5 + k) == p[1]);
    }
  }

  // Run again: the crops written under the root are not taken as images, and all is resumed.
  const Run again = faces(q(root) + " --out " + q(root) + " --resume");
  INFO(again.out);
  CHECK(again.status == 0);
  CHECK(again.has("3 images: 0 done, 3 skipped (resumed), 0 failed"));
  // The emotiw folder itself as INPUT is the same tree.
  const Run direct = faces(q(root / "emotiw") + " --out " + q(root) + " --resume");
  INFO(direct.out);
  CHECK(direct.has("3 images: 0 done, 3 skipped (resumed), 0 failed"));
}

TEST_CASE("gler_faces: bad arguments exit 2 with one error line; --help exits 0") {
  const fs::path empty = kTmp / "empty_dir";
  fs::create_directories(empty / "sub");
  std::ofstream(empty / "sub" / "notes.txt") << "no images";
  const std::string photo = q(kPhotos / "ipazc_no-faces.jpg"), out = " --out " + q(kTmp / "bad_out");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {out, "no INPUT"},
      {photo, "--out"},
      {q(empty) + out, "no images found under"},
      {q(kTmp / "does_not_exist") + out, "no such file or folder"},
      {photo + out + " --frobnicate", "unknown option --frobnicate"},
      {photo + out + " --align dlib", "--align must be seed or sphereface"},
      {photo + out + " --crop-format gif", "--crop-format must be jpg or png"},
      {photo + out + " --workers 0", "--workers must be at least 1"},
      {photo + out + " --min-face 5", "min face size"},
      {photo + out + " --weights " + q(kTmp / "no_weights.safetensors"), "no_weights.safetensors"},
      {photo + out + " --device tpu", "tpu"},
      {q(kPhotos) + " --out " + q(kPhotos), "is the INPUT folder itself"},
  };
  for (const auto& [args, message] : cases) {
    CAPTURE(args);
    const Run r = faces(args);
    CAPTURE(r.out);
    CHECK(r.status == 2);
    CHECK(r.has("error: "));
    CHECK(r.has(message));
  }
  CHECK_FALSE(fs::exists(kTmp / "bad_out" / "ipazc_no-faces.json"));

  const Run help = gler::test::run_cli(std::string(GLER_BIN_DIR) + "/gler_faces --help");
  CHECK(help.status == 0);
  CHECK(help.has("gler_faces INPUT... --out DIR"));
}
