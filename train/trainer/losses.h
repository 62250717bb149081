// The training losses of the configs (LossKind), from a model's output and the batch's labels.
#pragma once
#include <cstdint>
#include <vector>

#include "layers/angle_softmax.h"
#include "models/gler/gler_model.h"
#include "train/trainer/train_config.h"

namespace gler::train {

// ce and lsoftmax: cross-entropy of the image logits (lsoftmax's margin is in the logits the
// model computed with the labels). face_ce (local): every face slot a sample labelled with its
// image's label, the mean over the batch's real faces; every_slot: over all slots, the empty ones
// (the network's output for a zero face) included, as the seed trained its TrainDataset Local
// (SEED_SPEC §4.4; its FullDataset version gathers the real faces). asoftmax: `angle`'s A-Softmax loss (its λ annealing advances) over the same faces, from
// the output's ‖x‖cos θ and ‖x‖ψ(θ). A batch without real faces gives a zero loss (and zero
// gradients).
Tensor training_loss(LossKind loss, const models::GlerOutput& output, const Tensor& labels,
                     const std::vector<std::int64_t>& face_counts, bool every_slot, layers::AngleLoss& angle);

// The seed's Local metric (SEED_SPEC §4.4), for choosing its best epoch under seed_compat: of the
// faces in face_logits [B, F, 3], every slot (TrainDataset, padding included) or the first
// counts[b] (FullDataset), how many have their image's label as first arg-max, and how many were
// counted.
struct FaceHits {
  std::int64_t correct = 0, counted = 0;
};
FaceHits seed_face_hits(const Tensor& face_logits, const Tensor& labels, const std::vector<std::int64_t>& counts,
                        bool every_slot);

// Images of the batch whose first arg-max logit is their label.
std::int64_t correct_predictions(const Tensor& logits, const Tensor& labels);

}  // namespace gler::train
