// gler_train's resumable state, one safetensors file written atomically: the model's tensors
// ("model.<name>"), the optimiser's ("optimizer.<name>"), and in the metadata where the run stands
// (the next epoch and batch, the running sums of a half-done epoch, the best validation accuracy so
// far, the epoch records) and what run it is (the config and seed, compared on --resume). Every
// random draw of a run is a function of (seed, epoch, batch), so this is all --resume needs to go
// on with the same next batch and the same numbers.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/module.h"
#include "train/ensemble/metrics.h"
#include "train/optim/optimizer.h"
#include "train/report/epoch_record.h"

namespace gler::train {

struct RunPosition {
  int epoch = 0;                // the epoch to run (or finish) next
  std::int64_t next_batch = 0;  // its first batch not yet trained
  // The epoch's training so far: sum of batch-mean loss x batch size, correct images, images.
  double loss_sum = 0;
  std::int64_t correct = 0, images = 0, skipped = 0;
  std::int64_t steps = 0;  // optimiser steps of the whole run
  std::int64_t angle_iteration = 0;  // A-Softmax's λ annealing counter (layers::AngleLoss)
  double seconds = 0;      // training time of the whole run
  double best_accuracy = 0;   // the best epoch's validation accuracy
  double best_selection = 0;  // what it was chosen by (Run::selection_metric): its accuracy, or the seed's Local metric
  int best_epoch = -1;
  ensemble::Evaluation best_evaluation;  // the best epoch's validation confusion
  std::vector<EpochRecord> records;
};

// `run`: the run's identity (config, seed, dataset choice) as compact JSON.
void save_run_checkpoint(const std::filesystem::path& path, const Module& model, const Optimizer& optimizer,
                         const RunPosition& position, const std::string& run);

struct LoadedCheckpoint {
  RunPosition position;
  std::string run;
};
// Restores the model and the optimiser; throws naming the file for another kind of file, a
// truncated or corrupt one, and tensors that do not fit.
LoadedCheckpoint load_run_checkpoint(const std::filesystem::path& path, const Module& model, Optimizer& optimizer);

}  // namespace gler::train
