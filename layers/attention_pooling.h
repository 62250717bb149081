// Attention pooling over the faces of each image: softmax of per-face scores over the faces that
// are present, then the weighted sum of the face features. An image with no faces gets all-zero
// weights and a zero pooled vector (never NaN, forward or backward), as the seed's zero fill does.
#pragma once
#include "core/module.h"

namespace gler::layers {

// scores [B, F], counts i64 [B] with 0 <= counts[b] <= F: softmax over slots j < counts[b];
// the other slots get weight 0. Differentiable in scores.
Tensor masked_softmax(const Tensor& scores, const Tensor& counts);

struct AttentionPooled {
  Tensor weights;  // [B, F]
  Tensor pooled;   // [B, D]
};

// features [B, F, D]. detach_weights stops the gradient at the weights (the seed wraps them in
// Variable(...), so the scores are never trained; SEED_SPEC §4.11); the pooled vector still
// carries the gradient to the features.
AttentionPooled attention_pooling(const Tensor& scores, const Tensor& counts, const Tensor& features,
                                  bool detach_weights);

class AttentionPooling : public Module {
 public:
  explicit AttentionPooling(bool detach_weights) : detach_weights(detach_weights) {}
  AttentionPooled forward(const Tensor& scores, const Tensor& counts, const Tensor& features) const {
    return attention_pooling(scores, counts, features, detach_weights);
  }

  const bool detach_weights;
};

}  // namespace gler::layers
