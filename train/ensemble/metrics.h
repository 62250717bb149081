// Classification metrics of an ensemble's predictions, and the number format the seed's
// notebooks printed them in.
#pragma once
#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "train/ensemble/model_outputs.h"

namespace gler::ensemble {

struct Evaluation {
  std::size_t total = 0, correct = 0;
  std::array<std::array<std::size_t, kNumClasses>, kNumClasses> confusion{};  // [true][predicted]

  // correct / total in one float64 division, as np.mean and sklearn's score compute it.
  double accuracy() const { return static_cast<double>(correct) / static_cast<double>(total); }
  // Recall of each class: confusion[c][c] over the images of class c (0 when there are none).
  std::array<double, kNumClasses> recall() const;
};

Evaluation evaluate(const std::vector<int>& labels, const std::vector<int>& predicted);

// How many images were predicted as each class (for unlabelled splits).
std::array<std::size_t, kNumClasses> class_counts(const std::vector<int>& predicted);

// '%.12g': how the notebooks' Python 3.6 / numpy < 1.14 printed a float64 scalar.
std::string format_g12(double x);

}  // namespace gler::ensemble
