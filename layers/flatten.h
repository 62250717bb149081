// Flatten [N, ...] to [N, rest] (a free view), and the MTCNN variant that first swaps H and W of
// [N, C, H, W], as the Caffe-ported R-Net/O-Net weights expect (index c·H·W + w·H + h; SEED_SPEC §3.1).
#pragma once
#include "core/module.h"

namespace gler::layers {

Tensor flatten(const Tensor& x);
Tensor flatten_swap_hw(const Tensor& x);

class Flatten : public Module {
 public:
  explicit Flatten(bool swap_hw = false) : swap_hw(swap_hw) {}
  Tensor forward(const Tensor& x) const { return swap_hw ? flatten_swap_hw(x) : flatten(x); }

  const bool swap_hw;
};

}  // namespace gler::layers
