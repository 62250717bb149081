// gler_train's epoch loop against PyTorch: three epochs of the local arch (a small sphere20a per
// face, Linear fc6, image logits the mean over its real faces) on a small gler_synth dataset, SGD
// with momentum and StepLR, once with each loss the local arch trains with (face_ce, ce). The test
// builds the trainer's loaders itself (same examples, options and seed, so the same batches: the
// Loader is a pure function of them) and the trainer's initial model (make_model with
// Generator(seed)), and hands both to train_epochs_torch.py, which trains torch's sphere20a
// (tests/models/sphere_torch.py) through the same schedule, with the losses written from their
// definitions. Every per-epoch train_loss and val_loss of the run's log.jsonl must equal torch's
// within 1e-4 absolute (the losses are ~1, so relative as well), its lr torch's StepLR's within 1e-12
// relative, and its image counts torch's.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "io/json.h"
#include "models/faces/mtcnn_detector.h"
#include "models/gler/gler_model.h"
#include "tests/support/temp_dir.h"
#include "tests/support/torch_ref.h"
#include "tests/support/python_modules.h"
#include "train/data/loader.h"
#include "train/report/training_log.h"
#include "train/synth/synth_dataset.h"
#include "train/trainer/trainer.h"

namespace fs = std::filesystem;
using namespace gler;
using namespace gler::train;

namespace {

constexpr int kEpochs = 3;
constexpr std::uint64_t kSeed = 11;  // the run's
constexpr double kLossTolerance = 1e-4;

// Faces per slot set below the synthetic photos' most, so some images are truncated; gler_synth's
// Neutral photos are sometimes empty (an image without faces: zero logits).
std::string config_json(const std::string& loss) {
  return R"({"name":"parity_)" + loss +
         R"(","model":{"arch":"local","max_faces":4},"shapes":{"sphere_widths":[4,8,16,32],"sphere_feature_dim":64},)"
         R"("optimizer":{"type":"sgd","lr":0.01,"momentum":0.9},"schedule":{"step_size":2,"gamma":0.1},)"
         R"("epochs":3,"batch":8,"loss":")" +
         loss + R"("})";
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

void put_batches(test::TorchRef& ref, Loader& loader, std::int64_t epoch, const std::string& prefix, std::int64_t& batches,
                 std::int64_t& empty_images, std::int64_t& faces) {
  loader.start_epoch(epoch);
  batches = 0;
  while (std::optional<Batch> batch = loader.next()) {
    REQUIRE(batch->skipped.empty());
    REQUIRE(batch->size() > 0);
    const std::string name = prefix + std::to_string(batches++);
    ref.put(name + ".faces", batch->input.faces);
    ref.put(name + ".counts", batch->input.face_counts);
    ref.put(name + ".labels", batch->labels);
    for (const std::int64_t n : batch->input.face_counts.to_vector<std::int64_t>()) {
      empty_images += n == 0;
      faces += n;
    }
  }
}

}  // namespace

TEST_CASE("three epochs of the local arch (face_ce and ce, SGD + StepLR) give PyTorch's per-epoch losses") {
  test::require_torch();
  const auto t0 = std::chrono::steady_clock::now();
  const test::TempDir scratch("gler_train_epochs_parity");
  const fs::path data = scratch.path() / "synth";
  {
    synth::SynthOptions s;
    s.out = data;
    s.train = 24;
    s.val = 24;  // VAL (val_list) is half of it: 12 images
    s.seed = 5;
    s.max_faces = 6;
    s.align = models::faces::AlignMode::sphereface;  // 112 high x 96 wide: the default fidelity's crops
    const models::faces::MtcnnDetector detector(models::faces::bundled_mtcnn_weights());
    synth::write_synth_dataset(s, detector, [](std::size_t) {});
  }
  const double synth_s = seconds_since(t0);

  const std::vector<std::string> losses{"face_ce", "ce"};
  std::vector<TrainConfig> configs;
  for (const std::string& loss : losses) configs.push_back(parse_train_config(json::parse(config_json(loss)), "parity"));
  const TrainConfig& config = configs.front();  // the model, data and schedule both runs share

  // The trainer's runs.
  const auto t1 = std::chrono::steady_clock::now();
  std::vector<std::vector<EpochRecord>> logs;
  for (std::size_t i = 0; i < losses.size(); ++i) {
    TrainOptions o;
    o.config = configs[i];
    o.data = data;
    o.out = scratch.path() / ("run_" + losses[i]);
    o.no_init = true;
    o.seed = kSeed;
    o.workers = 2;
    TrainObserver quiet;
    const std::atomic<bool> stop{false};
    const TrainResult r = train::train(o, quiet, stop);
    REQUIRE(r.status == TrainStatus::finished);
    REQUIRE(r.epochs_done == kEpochs);
    logs.push_back(read_training_log(o.out / "log.jsonl"));
    REQUIRE(logs.back().size() == static_cast<std::size_t>(kEpochs));
  }
  const double train_s = seconds_since(t1);

  // The same batches and initial weights, for PyTorch.
  const auto t2 = std::chrono::steady_clock::now();
  test::TorchRef ref;
  DatasetOptions dataset;
  dataset.root = data;
  dataset.model = config.model;
  DatasetOptions train_set = dataset;
  train_set.augment = config.augment;
  Loader train_loader(list_split(train_set, Split::train), train_set,
                      LoaderOptions{.batch = config.batch, .workers = 2, .shuffle = true, .seed = kSeed});
  Loader val_loader(list_split(dataset, Split::val), dataset,
                    LoaderOptions{.batch = config.batch, .workers = 2, .shuffle = false, .seed = kSeed});
  std::int64_t train_batches = 0, val_batches = 0, empty = 0, faces = 0;
  for (int e = 0; e < kEpochs; ++e) {
    std::int64_t n = 0;
    put_batches(ref, train_loader, e, "train." + std::to_string(e) + ".", n, empty, faces);
    REQUIRE((e == 0 || n == train_batches));
    train_batches = n;
  }
  {
    std::int64_t val_empty = 0, val_faces = 0;
    put_batches(ref, val_loader, 0, "val.", val_batches, val_empty, val_faces);
  }
  Generator init_gen(kSeed);
  const auto model = models::make_model(config.model, init_gen, config.shapes);
  std::int64_t fc5_in = 0;  // torch's strict load checks every shape
  for (const auto& [name, t] : model->state_dict()) {
    ref.put("init." + name, t);
    if (name == "fc5.weight") fc5_in = t.size(1);
  }
  REQUIRE(fc5_in > 0);
  const auto& w = config.shapes.sphere_widths;
  ref.put("spec", Tensor::from_vector(std::vector<std::int64_t>{kEpochs, train_batches, val_batches, w[0], w[1], w[2], w[3],
                                                                config.shapes.sphere_feature_dim, fc5_in,
                                                                config.schedule.step_size},
                                      {10}));
  ref.put("hyper", Tensor::from_vector(std::vector<double>{config.optimizer.lr, config.optimizer.momentum, config.schedule.gamma}, {3}));
  std::string kinds = "[";
  for (const std::string& loss : losses) kinds += "'" + loss + "',";
  kinds += "]";
  ref.run(std::string("sys.path.insert(0, '") + GLER_SOURCE_DIR + "/tests/models')\n" + "sys.path.insert(0, '" +
          GLER_SOURCE_DIR + "/tests/train/trainer')\n" + "import train_epochs_torch\n" +
          "train_epochs_torch.run(load, save, " + kinds + ")\n");
  const double torch_s = seconds_since(t2);

  for (std::size_t i = 0; i < losses.size(); ++i) {
    const std::string& loss = losses[i];
    CAPTURE(loss);
    const auto train_loss = ref.get(loss + ".train_loss").to_vector<double>();
    const auto val_loss = ref.get(loss + ".val_loss").to_vector<double>();
    const auto lr = ref.get(loss + ".lr").to_vector<double>();
    const auto train_images = ref.get(loss + ".train_images").to_vector<std::int64_t>();
    const auto val_images = ref.get(loss + ".val_images").to_vector<std::int64_t>();
    double max_train = 0, max_val = 0, max_lr = 0;
    for (int e = 0; e < kEpochs; ++e) {
      CAPTURE(e);
      const auto k = static_cast<std::size_t>(e);
      const EpochRecord& r = logs[i][k];
      CHECK(r.epoch == e + 1);
      CHECK(r.train_images == train_images[k]);
      CHECK(r.val_images == val_images[k]);
      CHECK(r.skipped == 0);
      const double dt = std::abs(r.train_loss - train_loss[k]), dv = std::abs(r.val_loss - val_loss[k]);
      const double dl = std::abs(r.lr - lr[k]) / lr[k];
      CHECK(dt < kLossTolerance);
      CHECK(dv < kLossTolerance);
      CHECK(dl < 1e-12);
      max_train = std::max(max_train, dt);
      max_val = std::max(max_val, dv);
      max_lr = std::max(max_lr, dl);
      std::printf("%-7s epoch %d  lr %.4g  train_loss %.8f (torch %.8f)  val_loss %.8f (torch %.8f)\n", loss.c_str(),
                  e + 1, r.lr, r.train_loss, train_loss[k], r.val_loss, val_loss[k]);
    }
    std::printf("%-7s max |diff|: train_loss %.2e  val_loss %.2e  lr (relative) %.2e\n", loss.c_str(), max_train, max_val,
                max_lr);
  }
  // The losses must have moved: otherwise equal losses would say little about the steps.
  CHECK(std::abs(logs[0][2].train_loss - logs[0][0].train_loss) > 10 * kLossTolerance);
  std::printf("%lld train batches/epoch, %lld val batches; %lld train faces over 3 epochs, %lld images without faces; "
              "synth %.1f s, gler runs %.1f s, torch %.1f s\n",
              static_cast<long long>(train_batches), static_cast<long long>(val_batches), static_cast<long long>(faces),
              static_cast<long long>(empty), synth_s, train_s, torch_s);
}
