// train/data batches: faces padded to max_faces with their counts, O-Net features for the average
// model, inputs bit-identical to gler_infer's preparation (--aligned-faces over the same cache),
// undecodable images skipped and reported, and a missing cache entry detected and written.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "io/npz.h"
#include "models/faces/mtcnn_detector.h"
#include "models/pipeline/group_sample.h"
#include "tests/support/temp_dir.h"
#include "tests/train/data/tiny_emotiw.h"
#include "train/data/loader.h"

namespace fs = std::filesystem;
using namespace gler;
using namespace gler::train;
using gler::models::ModelInfo;

namespace {

// train: neg_1 (3 faces), neg_2 (none), neu_1 (20 faces, more than 15), pos_1 (1 face cropped
// 96x112, the other layout), pos_2 (greyscale, 2 faces).
void build_tree(const fs::path& root) {
  test::add_image(root, "train", "Negative", "neg_1.jpg", 1, 64, 48);
  test::add_cache_entry(root, "train", "Negative", "neg_1.jpg", 3, 1);
  test::add_image(root, "train", "Negative", "neg_2.jpg", 2, 50, 70);
  test::add_cache_entry(root, "train", "Negative", "neg_2.jpg", 0, 2);
  test::add_image(root, "train", "Neutral", "neu_1.jpg", 3, 80, 40);
  test::add_cache_entry(root, "train", "Neutral", "neu_1.jpg", 20, 3);
  test::add_image(root, "train", "Positive", "pos_1.jpg", 4, 30, 30);
  test::add_cache_entry(root, "train", "Positive", "pos_1.jpg", 1, 4, 96, 112);
  test::add_image(root, "train", "Positive", "pos_2.jpg", 5, 45, 60, 1);
  test::add_cache_entry(root, "train", "Positive", "pos_2.jpg", 2, 5);
}

ModelInfo model(const std::string& arch, bool seed_compat, int max_faces = 15) {
  ModelInfo m;
  m.arch = arch;
  m.seed_compat = seed_compat;
  m.max_faces = max_faces;
  return m;
}

DatasetOptions dataset(const fs::path& root, const ModelInfo& m) {
  DatasetOptions o;
  o.root = root;
  o.model = m;
  return o;
}

LoaderOptions in_order(std::int64_t batch, int workers = 0) {
  LoaderOptions o;
  o.batch = batch;
  o.workers = workers;
  o.shuffle = false;
  return o;
}

Batch only_batch(const std::vector<Example>& examples, const DatasetOptions& d, int workers = 0) {
  Loader loader(examples, d, in_order(static_cast<std::int64_t>(examples.size()), workers));
  loader.start_epoch(0);
  std::optional<Batch> b = loader.next();
  REQUIRE(b.has_value());
  CHECK_FALSE(loader.next().has_value());
  return std::move(*b);
}

bool same_bits(const Tensor& a, const Tensor& b) {
  if (a.defined() != b.defined()) return false;
  if (!a.defined()) return true;
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  if (a.dtype() == DType::i64) return a.to_vector<std::int64_t>() == b.to_vector<std::int64_t>();
  const std::vector<float> x = a.to_vector<float>(), y = b.to_vector<float>();
  return std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

// What gler_infer prepares for the same images: --aligned-faces ROOT/AlignedCroppedImages over
// the EmotiW-relative paths, --face-features ROOT/FaceFeatures.
models::GlerInput infer_input(const std::vector<Example>& examples, const fs::path& root, const ModelInfo& m) {
  models::pipeline::SampleOptions options;
  options.model = m;
  options.aligned_faces = root / "AlignedCroppedImages";
  options.face_features = root / "FaceFeatures";
  std::vector<models::pipeline::GroupSample> samples;
  for (const Example& e : examples)
    samples.push_back(models::pipeline::prepare_sample(
        {e.image, fs::path(e.split_dir) / e.label_dir / fs::path(e.image).filename()}, options, nullptr));
  std::vector<const models::pipeline::GroupSample*> pointers;
  for (const auto& s : samples) pointers.push_back(&s);
  return models::pipeline::make_batch(pointers, m);
}

}  // namespace

TEST_CASE("faces: max_faces slots, zero past each image's count, counts from the FaceFeatures rows") {
  test::TempDir dir("gler_loader_faces");
  build_tree(dir.path());
  const DatasetOptions d = dataset(dir.path(), model("attention_c", true));
  const auto examples = list_split(d, Split::train);
  const Batch b = only_batch(examples, d);
  CHECK(b.labels.to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 0, 1, 2, 2});
  CHECK(b.indices == std::vector<std::size_t>{0, 1, 2, 3, 4});
  CHECK(b.skipped.empty());
  CHECK(b.input.face_counts.to_vector<std::int64_t>() == std::vector<std::int64_t>{3, 0, 15, 1, 2});
  REQUIRE(b.input.faces.shape() == Shape({5, 15, 3, 96, 112}));
  CHECK(b.input.images.shape() == Shape({5, 3, 224, 224}));
  CHECK_FALSE(b.input.face_features.defined());
  const std::vector<float> faces = b.input.faces.to_vector<float>();
  const std::size_t face = 3 * 96 * 112;
  auto slot_is_zero = [&](std::size_t image, std::size_t slot) {
    for (std::size_t k = 0; k < face; ++k)
      if (faces[(image * 15 + slot) * face + k] != 0.0f) return false;
    return true;
  };
  CHECK_FALSE(slot_is_zero(0, 2));
  CHECK(slot_is_zero(0, 3));
  CHECK(slot_is_zero(1, 0));
  CHECK_FALSE(slot_is_zero(2, 14));
  CHECK(slot_is_zero(4, 2));
}

TEST_CASE("average: the first max_faces feature rows, zero-padded") {
  test::TempDir dir("gler_loader_features");
  build_tree(dir.path());
  for (int max_faces : {15, 27}) {
    CAPTURE(max_faces);
    const DatasetOptions d = dataset(dir.path(), model("average", true, max_faces));
    const Batch b = only_batch(list_split(d, Split::train), d);
    REQUIRE(b.input.face_features.shape() == Shape({5, max_faces, 256}));
    CHECK_FALSE(b.input.faces.defined());
    const std::int64_t neutral = std::min(20, max_faces);
    CHECK(b.input.face_counts.to_vector<std::int64_t>() == std::vector<std::int64_t>{3, 0, neutral, 1, 2});
    const std::vector<float> f = b.input.face_features.to_vector<float>();
    auto at = [&](std::size_t image, std::size_t slot, std::size_t k) { return f[(image * static_cast<std::size_t>(max_faces) + slot) * 256 + k]; };
    CHECK(at(0, 2, 7) == 1000.0f + 512 + 7);   // neg_1 (seed 1), face 2
    CHECK(at(0, 3, 7) == 0.0f);
    CHECK(at(2, static_cast<std::size_t>(neutral) - 1, 0) == 3000.0f + 256.0f * static_cast<float>(neutral - 1));
    CHECK(at(3, 0, 255) == 4000.0f + 255);
    CHECK(at(3, 1, 0) == 0.0f);
  }
}

TEST_CASE("without augmentation a training input equals gler_infer's preparation bit for bit") {
  test::TempDir dir("gler_loader_infer");
  build_tree(dir.path());
  for (const ModelInfo& m : {model("global", true), model("global", false), model("attention_c", true), model("attention_a", false),
                             model("local", true, 4), model("average", true), model("average", false, 27)}) {
    CAPTURE(m.arch);
    CAPTURE(m.seed_compat);
    const DatasetOptions d = dataset(dir.path(), m);
    const auto examples = list_split(d, Split::train);
    const Batch b = only_batch(examples, d, 2);
    const models::GlerInput expected = infer_input(examples, dir.path(), m);
    CHECK(same_bits(b.input.images, expected.images));
    CHECK(same_bits(b.input.faces, expected.faces));
    CHECK(same_bits(b.input.face_counts, expected.face_counts));
    CHECK(same_bits(b.input.face_features, expected.face_features));
  }
}

TEST_CASE("an image that cannot be decoded is left out of its batch and reported; the rest go on") {
  test::TempDir dir("gler_loader_corrupt");
  build_tree(dir.path());
  std::ofstream(dir.path() / "emotiw" / "train" / "Negative" / "neg_10.jpg", std::ios::binary) << "not a JPEG";
  // A truncated JPEG: the first half of a real one.
  const std::string good = test::slurp(dir.path() / "emotiw" / "train" / "Neutral" / "neu_1.jpg");
  std::ofstream(dir.path() / "emotiw" / "train" / "Neutral" / "neu_0.jpg", std::ios::binary) << good.substr(0, good.size() / 2);
  for (int workers : {0, 2}) {
    CAPTURE(workers);
    const DatasetOptions d = dataset(dir.path(), model("global", false));
    const auto examples = list_split(d, Split::train);  // neg_1 neg_10 neg_2 neu_0 neu_1 pos_1 pos_2
    REQUIRE(examples.size() == 7);
    Loader loader(examples, d, in_order(4, workers));
    loader.start_epoch(0);
    const Batch first = *loader.next();
    CHECK(first.indices == std::vector<std::size_t>{0, 2});
    CHECK(first.labels.to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 0});
    CHECK(first.input.images.shape() == Shape({2, 3, 224, 224}));
    REQUIRE(first.skipped.size() == 2);
    CHECK(first.skipped[0].rfind(examples[1].image, 0) == 0);
    CHECK(first.skipped[0].find("corrupt") != std::string::npos);
    CHECK(first.skipped[1].rfind(examples[3].image, 0) == 0);
    const Batch second = *loader.next();
    CHECK(second.indices == std::vector<std::size_t>{4, 5, 6});
    CHECK(second.skipped.empty());
    CHECK_FALSE(loader.next().has_value());
  }
  // A batch of skipped examples only: no tensors, no labels, still its place in the epoch.
  const DatasetOptions d = dataset(dir.path(), model("attention_c", true));
  const auto examples = list_split(d, Split::train);
  const Batch lone = only_batch({examples[1]}, d);
  CHECK(lone.size() == 0);
  CHECK(lone.labels.numel() == 0);
  CHECK_FALSE(lone.input.images.defined());
  CHECK(lone.skipped.size() == 1);
}

TEST_CASE("a malformed cache entry (the seed's zeros(1) dummy) skips its image") {
  test::TempDir dir("gler_loader_dummy");
  build_tree(dir.path());
  io::write_npz(dir.path() / "FaceFeatures" / "train" / "Negative" / "neg_1.npz", {io::npy_f32("a", {1}, {0.0f})});
  const DatasetOptions d = dataset(dir.path(), model("attention_c", true));
  const Batch b = only_batch(list_split(d, Split::train), d);
  CHECK(b.indices == std::vector<std::size_t>{1, 2, 3, 4});
  REQUIRE(b.skipped.size() == 1);
  CHECK(b.skipped[0].find("neg_1.npz") != std::string::npos);
}

TEST_CASE("a missing cache entry is detected with MTCNN, written as gler_faces writes it, and read back") {
  test::TempDir dir("gler_loader_detect");
  const fs::path& root = dir.path();
  const fs::path image = root / "emotiw" / "train" / "Positive" / "pos_9.jpg";
  fs::create_directories(image.parent_path());
  fs::copy_file(fs::path(GLER_SOURCE_DIR) / "data" / "photos" / "ipazc_ivan.jpg", image);
  test::add_image(root, "train", "Negative", "neg_1.jpg", 1);
  test::add_cache_entry(root, "train", "Negative", "neg_1.jpg", 3, 1);
  fs::create_directories(root / "emotiw" / "train" / "Neutral");
  const ModelInfo m = model("attention_c", true);
  const DatasetOptions d = dataset(root, m);
  const auto examples = list_split(d, Split::train);
  REQUIRE(examples.size() == 2);
  const fs::path json = root / "FaceJson" / "train" / "Positive" / "pos_9.json";
  const fs::path npz = root / "FaceFeatures" / "train" / "Positive" / "pos_9.npz";
  REQUIRE_FALSE(fs::exists(json));

  // Listed twice and prepared by two workers at once: one of them writes the entry.
  const std::vector<Example> twice = {examples[1], examples[1], examples[0]};
  const Batch b = only_batch(twice, d, 2);
  CHECK(b.skipped.empty());
  CHECK(fs::exists(json));
  CHECK(fs::exists(npz));
  CHECK(fs::exists(root / "FaceCoordinates" / "train" / "Positive" / "pos_9.npz"));
  const std::vector<std::int64_t> counts = b.input.face_counts.to_vector<std::int64_t>();
  CHECK(counts[0] == 2);  // the two faces of the photo (README: faces_found 2)
  CHECK(counts[1] == 2);
  CHECK(counts[2] == 3);
  for (int i = 0; i < 2; ++i) CHECK(fs::exists(root / "AlignedCroppedImages" / "train" / "Positive" / ("pos_9_" + std::to_string(i) + ".jpg")));

  // gler_infer detecting on its own (seed mode: crops JPEG round-tripped) gives the same faces.
  const models::faces::MtcnnDetector detector(models::faces::bundled_mtcnn_weights());
  models::pipeline::SampleOptions options;
  options.model = m;
  const models::pipeline::GroupSample detected = models::pipeline::prepare_sample({image.string(), "pos_9.jpg"}, options, &detector);
  const models::GlerInput expected = models::pipeline::make_batch({&detected}, m);
  const std::vector<float> ours = b.input.faces.to_vector<float>(), theirs = expected.faces.to_vector<float>();
  REQUIRE(ours.size() == 3 * theirs.size());
  CHECK(std::memcmp(ours.data(), theirs.data(), theirs.size() * sizeof(float)) == 0);

  // The next epoch reads the entry: the same batch, the files untouched.
  const auto written = fs::last_write_time(json);
  const Batch again = only_batch(twice, d, 2);
  CHECK(same_bits(again.input.faces, b.input.faces));
  CHECK(fs::last_write_time(json) == written);
}
