// Initialisation from imported checkpoints (the configs' "init"): ImageNet DenseNet-161 and
// SphereFace's sphere20a as gler_import converts them, the seed's checkpoints, or an earlier
// gler_train run's best.safetensors.
#pragma once
#include <filesystem>
#include <string>

#include "core/module.h"
#include "train/trainer/train_config.h"

namespace gler::train {

// Copies `source`'s tensors into `model` (see InitSource); `init_dir` resolves a relative file.
// Returns a one-line summary ("<file>: 965 tensors into global_model."). Throws, naming the file,
// for a missing or unreadable file and for every tensor that does not fit, all in one message.
std::string initialise_from(const Module& model, const InitSource& source, const std::filesystem::path& init_dir);

}  // namespace gler::train
