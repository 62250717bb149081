// gler_train's loop (SEED_SPEC §4.0 "Common training loop"): per epoch the learning rate of the
// schedule, a shuffled pass over the training split (zero grad, forward, loss, backward, step),
// then the validation split in eval mode; a checkpoint after every epoch, the model of the best
// validation accuracy (strictly greater, as the seed keeps it) beside it. The run folder:
//   config.json          the run: config, seed, dataset choice
//   checkpoint.safetensors   everything --resume needs (run_checkpoint.h)
//   best.safetensors     the best epoch's model, what gler_infer and gler_import read
//   log.jsonl, curves.svg    the epoch records and their plot
//   confusion.json       the best epoch's validation confusion matrix (at the end)
//   val_outputs.json, val_labels.csv   the best model's validation logits, for gler_ensemble
//   skipped.txt          the images that could not be used, each with the reason
#pragma once
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>

#include "core/device.h"
#include "train/ensemble/metrics.h"
#include "train/report/epoch_record.h"
#include "train/trainer/train_config.h"

namespace gler::train {

struct TrainOptions {
  TrainConfig config;
  std::filesystem::path data;      // the dataset root (emotiw/, lists, face cache)
  std::filesystem::path out;       // the run folder (created)
  std::filesystem::path init_dir;  // where the config's init files are
  bool no_init = false;            // start from the seed's random init instead of the config's files
  bool resume = false;
  bool full_dataset = false;  // SEED_SPEC §1.3 FullDataset: train on train + VAL, select on EVAL
  int epochs = 0;             // 0: the config's (epochs, or epochs_full with full_dataset)
  std::int64_t batch = 0;     // 0: the config's
  std::int64_t max_steps = 0;  // > 0: stop after this many optimiser steps of the run, checkpointed
  std::uint64_t seed = 0;
  Device device = Device::CPU;
  int workers = 2;
  std::filesystem::path mtcnn_weights;  // for images the face cache lacks (empty: the bundled weights)
};

// What the caller shows: one phase is one pass over a split.
class TrainObserver {
 public:
  virtual ~TrainObserver() = default;
  // "epoch 3/27 train" / "epoch 3/27 val", over `images` images (those left, when resumed).
  virtual void phase_begin(const std::string& /*phase*/, std::size_t /*images*/) {}
  // One batch of `images` more (skipped ones included): the phase's running mean loss and accuracy.
  virtual void batch_end(std::size_t /*images*/, double /*loss*/, double /*accuracy*/) {}
  virtual void phase_end() {}
  virtual void epoch_end(const EpochRecord& /*record*/) {}
  virtual void message(const std::string& /*line*/) {}
};

enum class TrainStatus { finished, interrupted, step_limit };

struct TrainResult {
  TrainStatus status = TrainStatus::finished;
  int epochs_done = 0;
  int best_epoch = -1;  // 0-based; -1: no epoch beat 0
  double best_accuracy = 0;
  ensemble::Evaluation best_evaluation;
  std::int64_t steps = 0;
};

// Runs (or, with options.resume, continues) the run in options.out. `stop` (Ctrl-C) is polled
// after every batch: the run is checkpointed where it stands and returns interrupted. A loss that
// is NaN or infinite throws, leaving the last epoch's checkpoint as it was.
TrainResult train(const TrainOptions& options, TrainObserver& observer, const std::atomic<bool>& stop);

}  // namespace gler::train
