// Ensemble math on small in-memory arrays: transforms, weighted sums, votes, metrics, folds and
// the libsvm stacker (fit, predict, save/load, class-order invariance).
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "core/error.h"
#include "train/ensemble/combine.h"
#include "train/ensemble/cross_validation.h"
#include "train/ensemble/metrics.h"
#include "train/ensemble/model_outputs.h"
#include "train/ensemble/svm_stacker.h"

using namespace gler::ensemble;

namespace {

SplitOutputs two_models() {
  SplitOutputs s;
  s.source = "memory";
  s.model_ids = {1, 2};
  s.logits = {{1.0f, 2.0f, 3.0f, 0.0f, 0.0f, 0.0f, 0.1f, -0.2f, 0.3f},
              {3.0f, 2.0f, 1.0f, 0.0f, 5.0f, 0.0f, 0.7f, 0.9f, -1.0f}};
  s.labels = {2, 1, 0};
  return s;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("gler_ensemble_unit_" + std::to_string(::getpid()) + "_" + name)).string();
}

}  // namespace

TEST_CASE("parse_class accepts indices and names") {
  CHECK(parse_class("0") == 0);
  CHECK(parse_class("Neutral") == 1);
  CHECK(parse_class("Positive") == 2);
  CHECK_THROWS_AS(parse_class("3"), gler::Error);
  CHECK_THROWS_AS(parse_class("positive"), gler::Error);
}

TEST_CASE("softmax and log-softmax rows") {
  const std::vector<float> logits = {1.0f, 2.0f, 3.0f, 70.0f, -70.0f, 0.0f};
  const auto p = transform_scores(logits, Transform::softmax);
  const auto lp = transform_scores(logits, Transform::log_softmax);
  const auto raw = transform_scores(logits, Transform::logits);
  for (int r = 0; r < 2; ++r) {
    CHECK(p[r * 3] + p[r * 3 + 1] + p[r * 3 + 2] == doctest::Approx(1.0).epsilon(1e-15));
    for (int c = 0; c < 3; ++c) CHECK(lp[r * 3 + c] == doctest::Approx(std::log(p[r * 3 + c])).epsilon(1e-12));
  }
  const double e1 = std::exp(1.0), e2 = std::exp(2.0), e3 = std::exp(3.0);
  CHECK(p[0] == doctest::Approx(e1 / (e1 + e2 + e3)).epsilon(1e-15));
  CHECK(lp[4] == doctest::Approx(-140.0));  // no overflow or log(0) at large logits
  CHECK(raw == std::vector<double>(logits.begin(), logits.end()));
  CHECK(parse_transform("log-softmax") == Transform::log_softmax);
  CHECK_THROWS_AS(parse_transform("probs"), gler::Error);
}

TEST_CASE("weighted sum of raw logits is the seed's float32 sum, term by term") {
  SplitOutputs s = two_models();
  const auto sum = weighted_sum(s, {0.1, 3.0}, false);
  for (std::size_t i = 0; i < 9; ++i) {
    const float expect = 0.1f * s.logits[0][i] + 3.0f * s.logits[1][i];
    CHECK(sum[i] == static_cast<double>(expect));
  }
  CHECK(argmax_rows(sum) == std::vector<int>{0, 1, 1});
  CHECK_THROWS_AS(weighted_sum(s, {1.0}, false), gler::Error);
}

TEST_CASE("weighted sum of softmax is a float64 sum of probabilities") {
  SplitOutputs s = two_models();
  const auto p0 = transform_scores(s.logits[0], Transform::softmax);
  const auto p1 = transform_scores(s.logits[1], Transform::softmax);
  const auto sum = weighted_sum(s, {2.0, -1.0}, true);
  for (std::size_t i = 0; i < 9; ++i) CHECK(sum[i] == 2.0 * p0[i] + -1.0 * p1[i]);
  const auto mean = mean_scores(s, true);
  for (std::size_t i = 0; i < 9; ++i) CHECK(mean[i] == doctest::Approx((p0[i] + p1[i]) / 2));
  const auto mean_logits = mean_scores(s, false);
  CHECK(mean_logits[1] == doctest::Approx(2.0));
}

TEST_CASE("argmax and vote ties go to the lowest class") {
  CHECK(argmax_rows({1, 1, 0, 0, 2, 2, 0, 0, 0, -1, -1, -1}) == std::vector<int>{0, 1, 0, 0});
  SplitOutputs s;
  s.model_ids = {1, 2, 3};
  // image 0 votes 0,1,2 (three-way tie -> 0); image 1 votes 2,1,1; image 2 votes 2,2,0
  s.logits = {{9, 0, 0, 0, 0, 9, 0, 0, 9}, {0, 9, 0, 0, 9, 0, 0, 0, 9}, {0, 0, 9, 0, 9, 0, 0, 0, 0}};
  CHECK(majority_vote(s) == std::vector<int>{0, 1, 2});
  s = select_models(s, {3, 1});  // two models: votes 2,0 / 1,2 / 0,2, each a tie
  CHECK(s.model_ids == std::vector<int>{3, 1});
  CHECK(majority_vote(s) == std::vector<int>{0, 1, 0});
  CHECK_THROWS_AS(select_models(s, {7}), gler::Error);
}

TEST_CASE("stacked features are model-major") {
  SplitOutputs s = two_models();
  const Features f = stack_features(s, Transform::logits);
  CHECK(f.rows == 3);
  CHECK(f.cols == 6);
  CHECK(f.row(0)[2] == 3.0);
  CHECK(f.row(0)[3] == 3.0);
  CHECK(f.row(1)[4] == 5.0);
}

TEST_CASE("evaluation: accuracy, confusion, recall") {
  const Evaluation e = evaluate({0, 0, 1, 1, 2, 2, 2}, {0, 1, 1, 1, 2, 0, 2});
  CHECK(e.total == 7);
  CHECK(e.correct == 5);
  CHECK(e.accuracy() == 5.0 / 7.0);
  CHECK(e.confusion[0][1] == 1);
  CHECK(e.confusion[2][0] == 1);
  CHECK(e.recall()[0] == 0.5);
  CHECK(e.recall()[1] == 1.0);
  CHECK(class_counts({2, 2, 0}) == std::array<std::size_t, 3>{1, 0, 2});
  CHECK_THROWS_AS(evaluate({0, 1}, {0}), gler::Error);
}

TEST_CASE("numbers print as the notebooks printed them") {
  CHECK(format_g12(9235.0 / 9808.0) == "0.941578303426");
  CHECK(format_g12(2586.0 / 3341.0) == "0.774019754565");
  CHECK(format_g12(787.0 / 1000.0) == "0.787");
  CHECK(format_g12(9745.0 / 9808.0 * 100) == "99.3576672104");
  CHECK(format_g12(795.0 / 1000.0 * 100) == "79.5");
}

TEST_CASE("stratified folds follow scikit-learn's StratifiedKFold") {
  // shuffle=False: the sorted classes are dealt round-robin, then handed out in order per class.
  CHECK(stratified_folds({0, 0, 0, 0, 1, 1, 1, 1, 1, 1}, 2, std::nullopt) == std::vector<int>{0, 0, 1, 1, 0, 0, 0, 1, 1, 1});
  // One class, ten folds: the folds are numpy's RandomState(0).permutation(10).
  CHECK(stratified_folds(std::vector<int>(10, 1), 10, 0u) == std::vector<int>{2, 8, 4, 9, 1, 6, 7, 3, 0, 5});
  // Every fold gets each class in proportion.
  std::vector<int> y;
  for (int i = 0; i < 103; ++i) y.push_back(i * 7 % 11 % 3);
  const auto folds = stratified_folds(y, 5, 0u);
  for (int c = 0; c < 3; ++c) {
    const auto total = std::count(y.begin(), y.end(), c);
    for (int f = 0; f < 5; ++f) {
      long n = 0;
      for (std::size_t i = 0; i < y.size(); ++i) n += folds[i] == f && y[i] == c;
      CHECK(n >= total / 5);
      CHECK(n <= (total + 4) / 5);
    }
  }
  CHECK_THROWS_AS(stratified_folds({0, 1}, 1, std::nullopt), gler::Error);
}

namespace {

// Three overlapping clusters in 3 features (one "model"), deterministic.
void toy_data(Features& x, std::vector<int>& y, std::size_t per_class) {
  x = Features{3 * per_class, 3, {}};
  for (std::size_t i = 0; i < 3 * per_class; ++i) {
    const int c = static_cast<int>(i % 3);
    y.push_back(c);
    for (int j = 0; j < 3; ++j) {
      const double jitter = std::sin(static_cast<double>(i * 7 + j * 13)) * 0.9;
      x.data.push_back((j == c ? 1.0 : 0.0) + jitter);
    }
  }
}

}  // namespace

TEST_CASE("the SVM stacker fits, predicts, saves and loads through libsvm") {
  Features x;
  std::vector<int> y;
  toy_data(x, y, 40);
  for (Kernel kernel : {Kernel::linear, Kernel::rbf}) {
    for (bool standardize : {false, true}) {
      StackerSpec spec;
      spec.model_ids = {1};
      spec.standardize = standardize;
      spec.svm.kernel = kernel;
      spec.svm.C = 10;
      const SvmStacker s = SvmStacker::fit(spec, x, y);
      const auto pred = s.predict(x);
      const Evaluation e = evaluate(y, pred);
      CHECK(e.accuracy() > 0.7);
      CHECK(s.classes() == std::vector<int>{0, 1, 2});
      CHECK(std::accumulate(s.n_support().begin(), s.n_support().end(), 0) > 0);
      if (kernel == Kernel::rbf) CHECK(s.gamma() > 0);

      const std::string path = temp_path("svm.json");
      s.save(path);
      const SvmStacker loaded = SvmStacker::load(path);
      CHECK(loaded.predict(x) == pred);
      CHECK(loaded.n_support() == s.n_support());
      CHECK(loaded.spec().standardize == standardize);
      CHECK(loaded.gamma() == s.gamma());
      std::filesystem::remove(path);
    }
  }
}

TEST_CASE("the SVM does not depend on the order classes first appear in") {
  Features x;
  std::vector<int> y;
  toy_data(x, y, 30);
  // The same rows, reordered so that class 2 comes first and class 0 last.
  Features xr{x.rows, x.cols, {}};
  std::vector<int> yr;
  for (int c : {2, 1, 0})
    for (std::size_t i = 0; i < x.rows; ++i)
      if (y[i] == c) {
        xr.data.insert(xr.data.end(), x.row(i), x.row(i) + x.cols);
        yr.push_back(c);
      }
  StackerSpec spec;
  spec.model_ids = {1};
  spec.svm.C = 0.5;
  const SvmStacker a = SvmStacker::fit(spec, x, y), b = SvmStacker::fit(spec, xr, yr);
  CHECK(b.classes() == std::vector<int>{0, 1, 2});
  CHECK(a.n_support() == b.n_support());
  CHECK(a.predict(x) == b.predict(x));
}

TEST_CASE("SVM input errors") {
  Features x{2, 3, {0, 0, 1, 1, 0, 0}};
  StackerSpec spec;
  spec.model_ids = {1};
  CHECK_THROWS_AS(SvmStacker::fit(spec, x, {1, 1}), gler::Error);  // one class
  CHECK_THROWS_AS(SvmStacker::fit(spec, x, {0}), gler::Error);     // mismatched lengths
  spec.svm.C = -1;
  CHECK_THROWS_AS(SvmStacker::fit(spec, x, {0, 1}), gler::Error);
  spec.svm.C = 1;
  spec.svm.kernel = Kernel::rbf;
  spec.svm.gamma = "large";
  CHECK_THROWS_AS(SvmStacker::fit(spec, x, {0, 1}), gler::Error);
  spec.svm.gamma = "auto";
  const SvmStacker s = SvmStacker::fit(spec, x, {0, 1});
  CHECK(s.gamma() == doctest::Approx(1.0 / 3));
  CHECK_THROWS_AS(s.predict(Features{1, 6, std::vector<double>(6, 0.0)}), gler::Error);

  const std::string path = temp_path("not_svm.json");
  std::ofstream(path) << "{\"format\": \"something else\"}";
  CHECK_THROWS_AS(SvmStacker::load(path), gler::Error);
  std::filesystem::remove(path);
  CHECK_THROWS_AS(SvmStacker::load(temp_path("missing.json")), gler::Error);
}
