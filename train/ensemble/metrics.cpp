#include "train/ensemble/metrics.h"

#include <cstdio>

#include "core/error.h"

namespace gler::ensemble {

std::array<double, kNumClasses> Evaluation::recall() const {
  std::array<double, kNumClasses> r{};
  for (int c = 0; c < kNumClasses; ++c) {
    std::size_t row = 0;
    for (std::size_t p : confusion[c]) row += p;
    r[c] = row ? static_cast<double>(confusion[c][c]) / static_cast<double>(row) : 0.0;
  }
  return r;
}

Evaluation evaluate(const std::vector<int>& labels, const std::vector<int>& predicted) {
  GLER_CHECK(labels.size() == predicted.size(),
             "mismatched lengths: " << labels.size() << " labels, " << predicted.size() << " predictions");
  GLER_CHECK(!labels.empty(), "nothing to evaluate");
  Evaluation e;
  e.total = labels.size();
  for (std::size_t i = 0; i < labels.size(); ++i) {
    ++e.confusion[labels[i]][predicted[i]];
    if (labels[i] == predicted[i]) ++e.correct;
  }
  return e;
}

std::array<std::size_t, kNumClasses> class_counts(const std::vector<int>& predicted) {
  std::array<std::size_t, kNumClasses> counts{};
  for (int p : predicted) ++counts[p];
  return counts;
}

std::string format_g12(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.12g", x);
  return buf;
}

}  // namespace gler::ensemble
