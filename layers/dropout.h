// Inverted dropout: in training each element is kept with probability 1-p and scaled by 1/(1-p);
// identity in eval. The mask comes from the Generator's Philox stream (Backend::random_uniform),
// so CPU and CUDA drop the same elements for the same generator state.
#pragma once
#include "core/init.h"
#include "core/module.h"

namespace gler::layers {

// Draws x.numel() values from `gen` in training (and nothing in eval or for p = 0).
Tensor dropout(const Tensor& x, double p, bool training, Generator& gen);

class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5);
  Tensor forward(const Tensor& x, Generator& gen) const { return dropout(x, p, is_training(), gen); }

  const double p;
};

}  // namespace gler::layers
