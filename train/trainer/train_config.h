// What gler_train trains and how: one JSON file per model of the paper (configs/), read strictly so
// a misspelt key is an error rather than a silently ignored setting. The fields mirror the columns
// of SEED_SPEC §4.12: init source, optimiser and learning rate, schedule, epochs, batch, max_faces,
// loss.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "io/json.h"
#include "models/gler/gler_model.h"
#include "models/gler/model_shapes.h"

namespace gler::train {

// Weights copied into part of the model before training. Source tensors named `select` + rest
// become `into` + rest; model tensors named by a `skip` prefix keep their fresh init (a head that
// the source has in another shape, e.g. sphere20a's 10574-way fc6). Every model tensor under `into`
// that is not skipped must come from the file, and every selected source tensor must fit one.
struct InitSource {
  std::string file;  // relative to --init-dir (absolute paths as they are)
  std::string select;
  std::string into;
  std::vector<std::string> skip;
};

struct OptimizerConfig {
  std::string type = "sgd";  // sgd | adam
  double lr = 0.001;
  double momentum = 0.0, weight_decay = 0.0;
  bool nesterov = false;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // adam
};

// StepLR(step_size, gamma) as the seed steps it (train/optim/step_lr.h); step_size 0: constant.
struct ScheduleConfig {
  int step_size = 0;
  double gamma = 0.1;
};

enum class LossKind {
  ce,        // cross-entropy of the image logits
  face_ce,   // local: every face its own sample labelled with its image's label (the seed's Local)
  lsoftmax,  // local with an L-Softmax fc6: cross-entropy of the margin logits averaged over faces
  asoftmax,  // local with an A-Softmax fc6: SphereFace's AngleLoss on every face, labelled as face_ce
};
const char* loss_name(LossKind loss);

struct TrainConfig {
  std::string name;         // the file's stem unless given
  std::string description;  // the paper's name for it
  models::ModelInfo model;  // arch, emotic, local_head, max_faces; seed_compat is the fidelity
  models::ModelShapes shapes;  // the paper's sizes unless "shapes" (tests' tiny models)
  std::vector<InitSource> init;
  // Parameter-name prefixes the optimiser receives; empty: every parameter (the seed's Average
  // optimises global_fc3_debug only).
  std::vector<std::string> train_only;
  OptimizerConfig optimizer;
  ScheduleConfig schedule;
  int epochs = 1;       // TrainDataset
  int epochs_full = 1;  // FullDataset (--full-dataset)
  std::int64_t batch = 32;
  LossKind loss = LossKind::ce;
  bool augment = false;  // the global arch's RandomResizedCrop + flip (the seed's)
  // emotiw (the EmotiW layout) or emotic: the seed's EmotiC valence pretraining of the global arch
  // (SEED_SPEC §5, train/data/emotic_dataset.h).
  std::string dataset = "emotiw";
};

// Throws gler::Error naming the file and the key for unknown keys, wrong types and bad values.
TrainConfig read_train_config(const std::filesystem::path& path);
TrainConfig parse_train_config(const json::Value& value, const std::string& fallback_name);
// Every field, in the file's key order: what a run records and --resume compares.
json::Value to_json(const TrainConfig& config);

}  // namespace gler::train
