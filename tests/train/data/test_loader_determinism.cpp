// train/data Loader: the batches of an epoch depend on (seed, epoch, batch index) only: not on the
// worker count or prefetching, nor on where the epoch was (re)started; shuffling is a permutation,
// the last batch is short or dropped, augmentation is on for the global arch only, and a worker's
// failure reaches next().
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "tests/support/temp_dir.h"
#include "tests/support/tensors.h"
#include "tests/train/data/tiny_emotiw.h"
#include "train/data/loader.h"

namespace fs = std::filesystem;
using namespace gler;
using namespace gler::train;

namespace {

// 10 train images of different sizes (and one greyscale), each with a cache entry.
void build_tree(const fs::path& root) {
  for (int k = 0; k < 10; ++k) {
    const std::string label = kClassFolders[static_cast<std::size_t>(k % 3)];
    const std::string file = std::string(kClassPrefixes[static_cast<std::size_t>(k % 3)]) + "_" + std::to_string(k) + ".jpg";
    test::add_image(root, "train", label, file, k, 40 + 7 * k, 70 - 3 * k, k == 4 ? 1 : 3);
    test::add_cache_entry(root, "train", label, file, k % 4, k);
  }
}

DatasetOptions dataset(const fs::path& root, const std::string& arch, bool augment) {
  DatasetOptions d;
  d.root = root;
  d.model.arch = arch;
  d.model.max_faces = 3;
  d.augment = augment;
  return d;
}

LoaderOptions loader_options(int workers, int prefetch = 2) {
  LoaderOptions o;
  o.batch = 3;
  o.workers = workers;
  o.prefetch = prefetch;
  o.seed = 7;
  return o;
}

struct Snapshot {
  std::vector<std::size_t> indices;
  std::vector<float> images, faces;
  std::vector<std::int64_t> labels, counts;
  bool operator==(const Snapshot& o) const {
    return indices == o.indices && labels == o.labels && counts == o.counts && images.size() == o.images.size() &&
           faces.size() == o.faces.size() && std::memcmp(images.data(), o.images.data(), images.size() * sizeof(float)) == 0 &&
           std::memcmp(faces.data(), o.faces.data(), faces.size() * sizeof(float)) == 0;
  }
};

Snapshot snapshot(const Batch& b) {
  Snapshot s;
  s.indices = b.indices;
  s.labels = b.labels.to_vector<std::int64_t>();
  if (b.input.images.defined()) s.images = b.input.images.to_vector<float>();
  if (b.input.faces.defined()) s.faces = b.input.faces.to_vector<float>();
  s.counts = b.input.face_counts.to_vector<std::int64_t>();
  return s;
}

std::vector<Snapshot> epoch(Loader& loader, std::int64_t e, std::size_t first = 0) {
  loader.start_epoch(e, first);
  std::vector<Snapshot> out;
  while (std::optional<Batch> b = loader.next()) out.push_back(snapshot(*b));
  return out;
}

}  // namespace

TEST_CASE("batches do not depend on workers, prefetch or resuming") {
  test::TempDir dir("gler_loader_determinism");
  build_tree(dir.path());
  const DatasetOptions d = dataset(dir.path(), "global", true);
  const auto examples = list_split(d, Split::train);
  REQUIRE(examples.size() == 10);

  Loader serial(examples, d, loader_options(0));
  CHECK(serial.batches_per_epoch() == 4);
  const std::vector<Snapshot> reference = epoch(serial, 1);
  REQUIRE(reference.size() == 4);
  CHECK(reference[3].indices.size() == 1);
  std::vector<std::size_t> all;
  for (const Snapshot& s : reference) all.insert(all.end(), s.indices.begin(), s.indices.end());
  std::vector<std::size_t> sorted = all;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(all != sorted);  // shuffled
  for (std::size_t i = 0; i < all.size(); ++i) CHECK(reference[i / 3].labels[i % 3] == examples[all[i]].label);

  for (auto [workers, prefetch] : {std::pair{1, 1}, std::pair{3, 2}, std::pair{3, 4}}) {
    CAPTURE(workers);
    CAPTURE(prefetch);
    Loader threaded(examples, d, loader_options(workers, prefetch));
    CHECK(epoch(threaded, 1) == reference);
    // Resumed at batch 2: batches 2 and 3 of the uninterrupted epoch.
    CHECK(epoch(threaded, 1, 2) == std::vector<Snapshot>(reference.begin() + 2, reference.end()));
    // A restart in the middle of an epoch drops what was prepared for it.
    threaded.start_epoch(0);
    REQUIRE(threaded.next().has_value());
    CHECK(epoch(threaded, 1) == reference);
    CHECK(epoch(threaded, 1, 4).empty());
  }
  CHECK(epoch(serial, 1, 3) == std::vector<Snapshot>(reference.begin() + 3, reference.end()));

  // Another epoch: another order and other crops; another seed: others again.
  const std::vector<Snapshot> next_epoch = epoch(serial, 2);
  CHECK_FALSE(next_epoch == reference);
  LoaderOptions other = loader_options(0);
  other.seed = 8;
  Loader reseeded(examples, d, other);
  CHECK_FALSE(epoch(reseeded, 1) == reference);
  test::expect_error_naming("resume past the end", {"past the epoch"}, [&] { serial.start_epoch(0, 5); });
}

TEST_CASE("no shuffle: list order; drop_last: no short batch; augmentation only changes the global arch's images") {
  test::TempDir dir("gler_loader_order");
  build_tree(dir.path());
  const DatasetOptions plain = dataset(dir.path(), "global", false), augmented = dataset(dir.path(), "global", true);
  const auto examples = list_split(plain, Split::train);
  LoaderOptions o = loader_options(2);
  o.shuffle = false;
  o.drop_last = true;
  Loader loader(examples, plain, o);
  CHECK(loader.batches_per_epoch() == 3);
  const std::vector<Snapshot> batches = epoch(loader, 0);
  REQUIRE(batches.size() == 3);
  CHECK(batches[1].indices == std::vector<std::size_t>{3, 4, 5});
  // Unaugmented inputs do not depend on the epoch.
  CHECK(epoch(loader, 5) == batches);

  Loader with_crops(examples, augmented, o);
  const std::vector<Snapshot> cropped = epoch(with_crops, 0);
  CHECK(cropped[0].indices == batches[0].indices);
  CHECK_FALSE(cropped[0].images == batches[0].images);
  CHECK_FALSE(epoch(with_crops, 1)[0].images == cropped[0].images);

  // The fusion models are not augmented (SEED_SPEC §2.2): augment changes nothing for them.
  Loader fusion(examples, dataset(dir.path(), "attention_b", false), o);
  Loader fusion_augment(examples, dataset(dir.path(), "attention_b", true), o);
  CHECK(epoch(fusion, 3) == epoch(fusion_augment, 3));
}

TEST_CASE("a failure that is not the example's reaches next(), which then goes on") {
  test::TempDir dir("gler_loader_failure");
  build_tree(dir.path());
  DatasetOptions d = dataset(dir.path(), "attention_c", false);
  d.mtcnn_weights = dir.path() / "no_such_weights.safetensors";
  fs::remove(dir.path() / "FaceFeatures" / "train" / "Negative" / "neg_0.npz");  // needs detection
  const auto examples = list_split(d, Split::train);  // neg_0 neg_3 neg_6 neg_9 ...
  for (int workers : {0, 2}) {
    CAPTURE(workers);
    LoaderOptions o = loader_options(workers);
    o.shuffle = false;
    Loader loader(examples, d, o);
    loader.start_epoch(0);
    test::expect_error_naming("missing MTCNN weights", {"no_such_weights"}, [&] { loader.next(); });
    const std::optional<Batch> second = loader.next();
    REQUIRE(second.has_value());
    CHECK(second->indices == std::vector<std::size_t>{3, 4, 5});
  }
  test::expect_error_naming("next before start_epoch", {"start_epoch"}, [&] {
    Loader idle(examples, d, loader_options(1));
    idle.next();
  });
  LoaderOptions bad = loader_options(1);
  bad.batch = 0;
  test::expect_error_naming("batch 0", {"batch size"}, [&] { Loader(examples, d, bad); });
  DatasetOptions zero_shot = d;
  zero_shot.model.arch = "default";
  CHECK_THROWS(Loader(examples, zero_shot, loader_options(0)));
}
