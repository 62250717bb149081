// Softmax cross-entropy, averaged over the batch: torch.nn.functional.cross_entropy(logits, labels)
// with its defaults (mean reduction, no class weights, no label smoothing).
#pragma once
#include "core/tensor.h"

namespace gler::layers {

// logits [B, C] (floating), labels i64 [B] in [0, C) -> scalar loss.
Tensor cross_entropy(const Tensor& logits, const Tensor& labels);

// The loss as an object, for training loops that hold a loss next to the model (AngleLoss has state).
struct CrossEntropy {
  Tensor forward(const Tensor& logits, const Tensor& labels) const { return cross_entropy(logits, labels); }
};

// Shared by the classification losses: logits [B, C] and labels i64 [B] on one device.
void check_logits_and_labels(const Tensor& logits, const Tensor& labels, const char* what);

}  // namespace gler::layers
