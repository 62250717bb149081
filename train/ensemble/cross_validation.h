// Hyperparameter search for the SVM stacker by stratified k-fold cross-validation, with the folds
// scikit-learn 1.2 draws (StratifiedKFold(k, shuffle=True, random_state=seed)), so a grid run
// here scores the same splits as GridSearchCV did for the data README's stacker table.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "train/ensemble/svm_stacker.h"

namespace gler::ensemble {

// The fold (0..k-1) each sample is tested in. Without a seed the folds are not shuffled.
std::vector<int> stratified_folds(const std::vector<int>& labels, int k, std::optional<std::uint32_t> seed);

struct GridPoint {
  double C = 0;
  std::string gamma;                  // RBF only; empty for the linear kernel
  std::vector<double> fold_accuracy;  // one per fold
  double mean = 0, std = 0;           // over folds (population std, as GridSearchCV reports)
};

struct GridResult {
  std::vector<GridPoint> points;  // C-major, then gamma, in the order given
  std::size_t best = 0;           // highest mean; ties go to the earliest point, as in GridSearchCV
};

// Scores every (C, gamma) of `base` (its kernel, features and standardisation) by fitting on all
// folds but one and testing on that one; standardisation is refit inside each training fold.
GridResult grid_search(const StackerSpec& base, const Features& x, const std::vector<int>& y, const std::vector<int>& folds,
                       const std::vector<double>& Cs, const std::vector<std::string>& gammas);

}  // namespace gler::ensemble
