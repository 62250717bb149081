// gler_synth end to end: the EmotiW tree, lists and face cache it writes are complete and agree
// with each other and with what it says it drew (the label rule holds for every photo); the same
// seed gives the same bytes, another seed other photos; a rerun leaves only its own files;
// gler_faces reads the cache as its own; bad arguments exit 2.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "io/image.h"
#include "io/json.h"
#include "tests/support/run_cli.h"
#include "tests/support/temp_dir.h"
#include "train/synth/synth_scene.h"
#include "weights_import/npy.h"
#include "weights_import/pickle_vm.h"

namespace fs = std::filesystem;
using gler::json::Value;

namespace {

const gler::test::TempDir kScratch("gler_synth_cli");
const fs::path& kTmp = kScratch.path();
const std::array<std::string, 3> kLabels{"Negative", "Neutral", "Positive"};
const std::array<std::string, 3> kPrefixes{"neg", "neu", "pos"};

using Run = gler::test::CliRun;

Run synth(const std::string& args) {
  return gler::test::run_cli(std::string(GLER_BIN_DIR) + "/gler_synth --device cpu --no-progress " + args);
}

// A path quoted for the shell.
std::string q(const fs::path& p) {
  std::string quoted = "'";
  quoted += p.string();
  quoted += '\'';
  return quoted;
}

// The dataset most cases look at: 12 train and 6 val photos, written once.
const fs::path& dataset() {
  static const fs::path dir = [] {
    const fs::path d = kTmp / "main";
    const Run r = synth("--out " + q(d) + " --train 12 --val 6 --seed 3");
    INFO(r.out);
    REQUIRE(r.status == 0);
    CHECK(r.has("gler_synth: 18 images (train 12, val 6: val_list 3, test_list 3); "));
    return d;
  }();
  return dir;
}

// Every regular file under `dir`, relative path -> bytes.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) files[fs::relative(e.path(), dir).generic_string()] = gler::test::slurp(e.path());
  return files;
}

std::size_t files_under(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

template <class T>
std::vector<T> values(const gler::wi::NdArray& a) {
  std::vector<T> out(static_cast<std::size_t>(a.numel()));
  REQUIRE(a.data.size() == out.size() * sizeof(T));
  std::memcpy(out.data(), a.data.data(), a.data.size());
  return out;
}

std::vector<std::string> unpickled_names(const fs::path& file) {
  const std::string bytes = gler::test::slurp(file);
  const gler::wi::Pickle p = gler::wi::unpickle(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  REQUIRE(p.root != nullptr);
  REQUIRE(p.root->is(gler::wi::Value::Kind::List));
  std::vector<std::string> names;
  for (const gler::wi::Value* item : p.root->items) {
    REQUIRE(item->is(gler::wi::Value::Kind::Str));
    names.push_back(item->s);
  }
  return names;
}

std::vector<std::string> lines(const fs::path& file) {
  std::istringstream in(gler::test::slurp(file));
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

gler::synth::Expression expression(const std::string& name) {
  for (const auto e : {gler::synth::Expression::frown, gler::synth::Expression::straight, gler::synth::Expression::smile})
    if (name == gler::synth::expression_name(e)) return e;
  FAIL("unknown expression " << name);
  return gler::synth::Expression::straight;
}

}  // namespace

TEST_CASE("every photo has its face cache, consistent with the manifest, and obeys the label rule") {
  const fs::path& dir = dataset();
  const Value manifest = gler::json::parse_file((dir / "gler_synth.json").string());
  CHECK(manifest.at("complete").as_bool());
  CHECK(manifest.at("seed").as_string() == "3");
  const gler::json::Array& images = manifest.at("images").as_array();
  REQUIRE(images.size() == 18);
  std::map<std::string, std::array<int, 3>> per_class;
  std::size_t total_faces = 0;
  for (const Value& image : images) {
    const fs::path rel = fs::path(image.at("image").as_string()).lexically_relative("emotiw");
    CAPTURE(rel);
    const std::string split = image.at("split").as_string(), label = image.at("label").as_string();
    const int c = static_cast<int>(std::find(kLabels.begin(), kLabels.end(), label) - kLabels.begin());
    REQUIRE(c < 3);
    per_class[split][c]++;
    // The seed's naming: <split>/<Label>/<prefix>_<k>.jpg, k counting from 1 in its class.
    CHECK(rel == fs::path(split) / label / (kPrefixes[c] + "_" + std::to_string(per_class[split][c]) + ".jpg"));
    const fs::path photo = dir / "emotiw" / rel;
    const gler::io::Image decoded = gler::io::read_image(photo.string());
    CHECK(decoded.channels == 3);
    CHECK(decoded.width == image.at("width").as_int());
    CHECK(decoded.height == image.at("height").as_int());

    const gler::json::Array& drawn = image.at("faces").as_array();
    const std::size_t n = drawn.size();
    total_faces += n;
    std::vector<gler::synth::Expression> expressions;
    for (const Value& f : drawn) expressions.push_back(expression(f.at("expression").as_string()));
    CHECK(gler::synth::label_of(expressions) == c);

    const std::string stem = rel.stem().string();
    const fs::path where = rel.parent_path();
    const Value face_json = gler::json::parse_file((dir / "FaceJson" / where / (stem + ".json")).string());
    CHECK(face_json.at("error").is_null());
    CHECK(face_json.at("image").as_string() == photo.string());
    CHECK(face_json.at("width").as_int() == decoded.width);
    CHECK(face_json.at("mode").as_string() == "RGB");
    const gler::json::Array& faces = face_json.at("faces").as_array();
    REQUIRE(faces.size() == n);

    const auto coords = gler::wi::read_npz((dir / "FaceCoordinates" / where / (stem + ".npz")).string());
    const auto features = gler::wi::read_npz((dir / "FaceFeatures" / where / (stem + ".npz")).string());
    const gler::wi::NdArray &a = coords.at("a"), &b = coords.at("b"), &f = features.at("a");
    CHECK(a.descr == "<f8");
    CHECK(b.descr == "<f4");
    CHECK(f.descr == "<f4");
    CHECK(a.shape == std::vector<std::int64_t>{static_cast<std::int64_t>(n), 5});
    CHECK(b.shape == std::vector<std::int64_t>{static_cast<std::int64_t>(n), 10});
    CHECK(f.shape == std::vector<std::int64_t>{static_cast<std::int64_t>(n), 256});
    const std::vector<double> boxes = values<double>(a);
    const std::vector<float> landmarks = values<float>(b), feature = values<float>(f);
    for (std::size_t i = 0; i < n; ++i) {
      CAPTURE(i);
      const gler::json::Array &box = faces[i].at("box").as_array(), &drawn_box = drawn[i].at("box").as_array();
      const gler::json::Array& lm = faces[i].at("landmarks").as_array();
      for (std::size_t k = 0; k < 4; ++k) {
        CHECK(box[k].as_number() == drawn_box[k].as_number());
        CHECK(boxes[5 * i + k] == box[k].as_number());
      }
      CHECK(boxes[5 * i + 4] == 1.0);
      CHECK(faces[i].at("score").as_number() == 1.0);
      for (std::size_t k = 0; k < 5; ++k) {
        CHECK(landmarks[10 * i + k] == lm[k].as_array()[0].as_number());
        CHECK(landmarks[10 * i + 5 + k] == lm[k].as_array()[1].as_number());
      }
      double norm = 0;
      for (std::size_t k = 0; k < 256; ++k) {
        CHECK(std::isfinite(feature[256 * i + k]));
        norm += std::abs(feature[256 * i + k]);
      }
      CHECK(norm > 0);
      const fs::path crop = dir / "AlignedCroppedImages" / where / (stem + "_" + std::to_string(i) + ".jpg");
      CHECK(faces[i].at("crop").as_string() == crop.lexically_relative(dir / "FaceJson" / where).generic_string());
      const gler::io::Image aligned = gler::io::read_image(crop.string());
      CHECK(aligned.width == 112);
      CHECK(aligned.height == 96);
    }
    CHECK_FALSE(fs::exists(dir / "AlignedCroppedImages" / where / (stem + "_" + std::to_string(n) + ".jpg")));
  }
  // Classes as even as the counts allow; the trees hold nothing else.
  CHECK(per_class["train"] == std::array<int, 3>{4, 4, 4});
  CHECK(per_class["val"] == std::array<int, 3>{2, 2, 2});
  CHECK(files_under(dir / "emotiw") == 18);
  CHECK(files_under(dir / "FaceJson") == 18);
  CHECK(files_under(dir / "FaceCoordinates") == 18);
  CHECK(files_under(dir / "FaceFeatures") == 18);
  CHECK(files_under(dir / "AlignedCroppedImages") == total_faces);
  CHECK(total_faces > 18);
}

TEST_CASE("val_list and test_list partition the val photos, pickled and as text") {
  const fs::path& dir = dataset();
  const std::vector<std::string> val = unpickled_names(dir / "val_list"), test = unpickled_names(dir / "test_list");
  CHECK(val == lines(dir / "val_list.txt"));
  CHECK(test == lines(dir / "test_list.txt"));
  CHECK(val == std::vector<std::string>{"neg_1.jpg", "neu_1.jpg", "pos_1.jpg"});
  CHECK(test == std::vector<std::string>{"neg_2.jpg", "neu_2.jpg", "pos_2.jpg"});
  std::set<std::string> listed(val.begin(), val.end()), on_disk;
  listed.insert(test.begin(), test.end());
  CHECK(listed.size() == val.size() + test.size());
  for (const auto& e : fs::recursive_directory_iterator(dir / "emotiw" / "val"))
    if (e.is_regular_file()) on_disk.insert(e.path().filename().string());
  CHECK(listed == on_disk);
  if (std::system((std::string(GLER_PYTHON) + " -c 'import pickle' 2>/dev/null").c_str()) != 0) {
    MESSAGE("skipped the Python check: " << GLER_PYTHON << " is not available");
    return;
  }
  const std::string check = std::string(GLER_PYTHON) +
                            " -c \"import pickle,sys; assert pickle.load(open(sys.argv[1],'rb')) == "
                            "['neg_1.jpg','neu_1.jpg','pos_1.jpg']; assert pickle.load(open(sys.argv[2],'rb')) == "
                            "['neg_2.jpg','neu_2.jpg','pos_2.jpg']\" " + q(dir / "val_list") + " " + q(dir / "test_list");
  CHECK(std::system(check.c_str()) == 0);
}

TEST_CASE("gler_faces reads the cache as its own: the same files, and --resume finds every photo done") {
  const fs::path& dir = dataset();
  const std::string faces = std::string(GLER_BIN_DIR) + "/gler_faces --device cpu --no-progress ";
  const Run resumed = gler::test::run_cli(faces + q(dir) + " --out " + q(dir) + " --resume");
  INFO(resumed.out);
  CHECK(resumed.status == 0);
  CHECK(resumed.has("18 images: 0 done, 18 skipped (resumed), 0 failed"));
  const fs::path detected = kTmp / "detected";
  const Run run = gler::test::run_cli(faces + "--no-crops " + q(dir) + " --out " + q(detected));
  INFO(run.out);
  REQUIRE(run.status == 0);
  for (const char* tree : {"FaceJson", "FaceCoordinates", "FaceFeatures"}) {
    std::set<std::string> ours, theirs;
    for (const auto& e : fs::recursive_directory_iterator(dir / tree)) ours.insert(fs::relative(e.path(), dir).generic_string());
    for (const auto& e : fs::recursive_directory_iterator(detected / tree))
      theirs.insert(fs::relative(e.path(), detected).generic_string());
    CHECK(ours == theirs);
  }
}

TEST_CASE("the same seed gives the same bytes, another seed other photos, a rerun only its own files") {
  const fs::path dir = kTmp / "rerun";
  REQUIRE(synth("--out " + q(dir) + " --train 6 --val 3 --seed 9 --max-faces-per-image 8").status == 0);
  const auto first = snapshot(dir);
  REQUIRE(synth("--out " + q(dir) + " --train 6 --val 3 --seed 9 --max-faces-per-image 8").status == 0);
  CHECK(snapshot(dir) == first);

  const fs::path other = kTmp / "other_seed";
  REQUIRE(synth("--out " + q(other) + " --train 6 --val 3 --seed 10 --max-faces-per-image 8").status == 0);
  const auto second = snapshot(other);
  int same_photos = 0;
  for (const auto& [name, bytes] : first)
    if (name.rfind("emotiw/", 0) == 0) same_photos += second.count(name) && second.at(name) == bytes;
  CHECK(same_photos == 0);

  // Fewer photos into the same folder: the earlier run's extra photos and their outputs go.
  REQUIRE(synth("--out " + q(dir) + " --train 3 --val 0 --seed 9").status == 0);
  CHECK(files_under(dir / "emotiw") == 3);
  CHECK(files_under(dir / "FaceJson") == 3);
  CHECK(files_under(dir / "FaceCoordinates") == 3);
  CHECK(files_under(dir / "FaceFeatures") == 3);
  CHECK_FALSE(fs::exists(dir / "emotiw" / "val"));
  CHECK(lines(dir / "val_list.txt").empty());
}

TEST_CASE("--align sphereface writes SphereFace's 96x112 crops") {
  const fs::path dir = kTmp / "sphereface";
  const Run r = synth("--out " + q(dir) + " --train 3 --val 0 --align sphereface");
  INFO(r.out);
  REQUIRE(r.status == 0);
  std::size_t crops = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir / "AlignedCroppedImages"))
    if (e.is_regular_file()) {
      const gler::io::Image crop = gler::io::read_image(e.path().string());
      CHECK(crop.width == 96);
      CHECK(crop.height == 112);
      ++crops;
    }
  CHECK(crops > 0);
  const Value json = gler::json::parse_file((dir / "FaceJson" / "train" / "Negative" / "neg_1.json").string());
  CHECK(json.at("settings").at("align").as_string() == "sphereface");
}

TEST_CASE("bad arguments: one error line and exit status 2") {
  const fs::path out = kTmp / "bad";
  const fs::path foreign = kTmp / "foreign";
  fs::create_directories(foreign / "emotiw" / "train");
  for (const std::string& args :
       {std::string(""), "--out " + q(out) + " --train -1", "--out " + q(out) + " --train many",
        "--out " + q(out) + " --val 1.5", "--out " + q(out) + " --seed -3", "--out " + q(out) + " --seed x1",
        "--out " + q(out) + " --max-faces-per-image 0", "--out " + q(out) + " --max-faces-per-image 101",
        "--out " + q(out) + " --align eyes", "--out " + q(out) + " --bogus", "--out " + q(out) + " stray",
        "--out " + q(out) + " --train 0 --val 0", "--out " + q(out) + " --progress --no-progress",
        "--out " + q(out) + " --weights " + q(kTmp / "missing.safetensors"), "--out " + q(foreign)}) {
    CAPTURE(args);
    const Run r = synth(args);
    CHECK(r.status == 2);
    CHECK(r.has("error: "));
  }
  CHECK_FALSE(fs::exists(out));
  CHECK_FALSE(fs::exists(foreign / "gler_synth.json"));
  const Run help = synth("--help");
  CHECK(help.status == 0);
  CHECK(help.has("gler_synth --out DIR"));
}
