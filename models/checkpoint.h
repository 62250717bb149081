// Loading weights into a network by name: a safetensors file written by gler_import (or any
// source gler_import reads) goes into a Module whose parameter and buffer names are the PyTorch
// state-dict keys. A checkpoint of another architecture is refused with the full list of
// missing, unexpected and mis-shaped tensors. BatchNorm batch counters (num_batches_tracked), which
// files older than PyTorch 0.4.1 lack, may be missing and are then 0, as in PyTorch.
#pragma once
#include <map>
#include <string>

#include "core/module.h"

namespace gler::models {

// Loads every tensor of `path` into `model` (converted to each destination's dtype and device);
// returns the file's metadata (arch and hyper-parameters). `prefix` selects and strips a
// sub-module's entries, e.g. "pnet." from the MTCNN file.
std::map<std::string, std::string> load_weights(const Module& model, const std::string& path,
                                                const std::string& prefix = "");

// Writes every parameter and buffer of `model` (state-dict order and names) with `metadata` to a
// safetensors file, atomically: the file gler_infer and load_weights read back.
void save_weights(const Module& model, const std::string& path, const std::map<std::string, std::string>& metadata);

}  // namespace gler::models
