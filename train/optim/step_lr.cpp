#include "train/optim/step_lr.h"

#include <cmath>

namespace gler::train {

double step_lr(double base_lr, int epoch, int step_size, double gamma) {
  GLER_CHECK(step_size >= 1, "StepLR: step size " << step_size << " (must be at least 1)");
  GLER_CHECK(epoch >= 0, "StepLR: epoch " << epoch << " (epochs count from 0)");
  // Python's base_lr * gamma ** (last_epoch // step_size): pow of two doubles.
  return base_lr * std::pow(gamma, static_cast<double>(epoch / step_size));
}

StepLR::StepLR(Optimizer& optimizer, int step_size, double gamma)
    : optimizer_(optimizer), step_size_(step_size), gamma_(gamma) {
  GLER_CHECK(step_size >= 1, "StepLR: step size " << step_size << " (must be at least 1)");
  GLER_CHECK(std::isfinite(gamma) && gamma > 0, "StepLR: gamma " << gamma);
  for (std::size_t g = 0; g < optimizer.group_count(); ++g) base_lrs_.push_back(optimizer.group(g).lr);
}

double StepLR::lr(std::size_t group, int epoch) const {
  GLER_CHECK(group < base_lrs_.size(),
             "StepLR: no group " << group << " (the optimiser has " << base_lrs_.size() << ")");
  return step_lr(base_lrs_[group], epoch, step_size_, gamma_);
}

void StepLR::begin_epoch(int epoch) {
  for (std::size_t g = 0; g < base_lrs_.size(); ++g) optimizer_.set_lr(g, lr(g, epoch));
}

}  // namespace gler::train
