// StepLR as the seed uses it (SEED_SPEC "Common training loop"): the seed calls scheduler.step()
// at the top of every epoch, before training it, under torch 0.4, whose scheduler counts that
// first call as epoch 0; so the learning rate during epoch e (0-based) is
//   base_lr * gamma ^ floor(e / step_size)
// (0.4 computes it in this closed form, in double, as here). torch >= 1.1 gives the same schedule
// when step() is called at the end of each epoch, its documented placement, up to rounding (it
// multiplies the previous lr by gamma; ~1e-16 relative). The seed's own placement run under
// torch >= 1.1 would decay one epoch early (lr base * gamma ^ floor((e + 1) / step_size)): that is
// not what the seed trained with, and not reproduced.
//
// The schedule is a function of the epoch, so resuming at epoch e needs only e: begin_epoch(e).
#pragma once
#include <vector>

#include "train/optim/optimizer.h"

namespace gler::train {

// base_lr * gamma ^ floor(epoch / step_size).
double step_lr(double base_lr, int epoch, int step_size, double gamma);

class StepLR {
 public:
  // The base rates are the optimiser's group rates now (torch's initial_lr).
  StepLR(Optimizer& optimizer, int step_size, double gamma = 0.1);

  double lr(std::size_t group, int epoch) const;
  // Sets every group's rate for epoch `epoch` (0-based): call it where the seed calls
  // scheduler.step(), at the top of the epoch.
  void begin_epoch(int epoch);

  const std::vector<double>& base_lrs() const { return base_lrs_; }
  int step_size() const { return step_size_; }
  double gamma() const { return gamma_; }

 private:
  Optimizer& optimizer_;
  int step_size_;
  double gamma_;
  std::vector<double> base_lrs_;
};

}  // namespace gler::train
