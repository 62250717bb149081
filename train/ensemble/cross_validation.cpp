#include "train/ensemble/cross_validation.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "core/error.h"

namespace gler::ensemble {

namespace {

// numpy's legacy RandomState(seed).shuffle of a 1-d array. std::mt19937 seeded with an integer
// is numpy's MT19937 seeded the same way (init_genrand); numpy draws each swap index with
// random_interval: 32-bit words masked to the next power of two minus one, rejecting overshoots.
class NumpyShuffler {
 public:
  explicit NumpyShuffler(std::uint32_t seed) : mt_(seed) {}

  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i-- > 1;) std::swap(v[i], v[interval(static_cast<std::uint32_t>(i))]);
  }

 private:
  std::mt19937 mt_;

  std::uint32_t interval(std::uint32_t max) {
    std::uint32_t mask = max;
    for (int s = 1; s <= 16; s <<= 1) mask |= mask >> s;
    std::uint32_t v;
    do v = static_cast<std::uint32_t>(mt_()) & mask;
    while (v > max);
    return v;
  }
};

}  // namespace

// sklearn's StratifiedKFold._make_test_folds: classes are numbered by first appearance; the
// sorted class sequence is dealt round-robin into k folds to fix each fold's class counts; each
// class's fold numbers (0,0,..,1,1,..) are then shuffled and handed to its samples in order.
std::vector<int> stratified_folds(const std::vector<int>& labels, int k, std::optional<std::uint32_t> seed) {
  GLER_CHECK(k >= 2, "cross-validation needs at least 2 folds, got " << k);
  GLER_CHECK(labels.size() >= static_cast<std::size_t>(k), "cannot split " << labels.size() << " images into " << k << " folds");
  std::map<int, int> code;  // label -> order of first appearance
  std::vector<int> encoded(labels.size());
  for (std::size_t i = 0; i < labels.size(); ++i) encoded[i] = code.emplace(labels[i], static_cast<int>(code.size())).first->second;
  const int n_classes = static_cast<int>(code.size());

  std::vector<int> sorted = encoded;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::vector<int>> allocation(static_cast<std::size_t>(k), std::vector<int>(static_cast<std::size_t>(n_classes), 0));
  for (std::size_t i = 0; i < sorted.size(); ++i) ++allocation[i % static_cast<std::size_t>(k)][static_cast<std::size_t>(sorted[i])];

  std::optional<NumpyShuffler> rng;
  if (seed) rng.emplace(*seed);
  std::vector<int> folds(labels.size());
  for (int c = 0; c < n_classes; ++c) {
    std::vector<int> class_folds;
    for (int f = 0; f < k; ++f) class_folds.insert(class_folds.end(), static_cast<std::size_t>(allocation[f][c]), f);
    if (rng) rng->shuffle(class_folds);
    std::size_t next = 0;
    for (std::size_t i = 0; i < labels.size(); ++i)
      if (encoded[i] == c) folds[i] = class_folds[next++];
  }
  return folds;
}

namespace {

Features take_rows(const Features& x, const std::vector<std::size_t>& rows) {
  Features out{rows.size(), x.cols, std::vector<double>(rows.size() * x.cols)};
  for (std::size_t r = 0; r < rows.size(); ++r) std::copy_n(x.row(rows[r]), x.cols, out.row(r));
  return out;
}

}  // namespace

GridResult grid_search(const StackerSpec& base, const Features& x, const std::vector<int>& y, const std::vector<int>& folds,
                       const std::vector<double>& Cs, const std::vector<std::string>& gammas) {
  GLER_CHECK(x.rows == y.size() && y.size() == folds.size(), "mismatched lengths in cross-validation");
  GLER_CHECK(!Cs.empty(), "empty C grid");
  const int k = *std::max_element(folds.begin(), folds.end()) + 1;
  const bool rbf = base.svm.kernel == Kernel::rbf;
  GLER_CHECK(!rbf || !gammas.empty(), "empty gamma grid");

  // The folds' training and test sets, built once for every grid point.
  struct Split {
    Features train_x, test_x;
    std::vector<int> train_y, test_y;
  };
  std::vector<Split> splits;
  for (int f = 0; f < k; ++f) {
    std::vector<std::size_t> train, test;
    for (std::size_t i = 0; i < folds.size(); ++i) (folds[i] == f ? test : train).push_back(i);
    GLER_CHECK(!test.empty(), "cross-validation fold " << f << " of " << k << " is empty: too few images");
    Split s{take_rows(x, train), take_rows(x, test), {}, {}};
    for (std::size_t i : train) s.train_y.push_back(y[i]);
    for (std::size_t i : test) s.test_y.push_back(y[i]);
    splits.push_back(std::move(s));
  }

  GridResult result;
  for (double C : Cs) {
    for (const std::string& gamma : rbf ? gammas : std::vector<std::string>{""}) {
      GridPoint p;
      p.C = C;
      p.gamma = gamma;
      StackerSpec spec = base;
      spec.svm.C = C;
      if (rbf) spec.svm.gamma = gamma;
      for (const Split& s : splits) {
        const std::vector<int> pred = SvmStacker::fit(spec, s.train_x, s.train_y).predict(s.test_x);
        std::size_t correct = 0;
        for (std::size_t i = 0; i < pred.size(); ++i) correct += pred[i] == s.test_y[i];
        p.fold_accuracy.push_back(static_cast<double>(correct) / static_cast<double>(pred.size()));
      }
      for (double a : p.fold_accuracy) p.mean += a;
      p.mean /= static_cast<double>(k);
      for (double a : p.fold_accuracy) p.std += (a - p.mean) * (a - p.mean);
      p.std = std::sqrt(p.std / static_cast<double>(k));
      result.points.push_back(std::move(p));
    }
  }
  for (std::size_t i = 1; i < result.points.size(); ++i)
    if (result.points[i].mean > result.points[result.best].mean) result.best = i;
  return result;
}

}  // namespace gler::ensemble
