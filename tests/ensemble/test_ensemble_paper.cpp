// The seed's ensemble numbers, recomputed from its saved model outputs (the bundled
// data/model_outputs, whose README lists each number).
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/error.h"
#include "io/json.h"
#include "train/ensemble/combine.h"
#include "train/ensemble/metrics.h"
#include "train/ensemble/model_outputs.h"
#include "train/ensemble/svm_stacker.h"
#include "weights_import/npy.h"

using namespace gler::ensemble;
using Confusion = std::array<std::array<std::size_t, 3>, 3>;

namespace {

const std::string kDir = std::string(GLER_SOURCE_DIR) + "/data/model_outputs/";
const std::string kA = kDir + "fourteen_models_output_data.npz";
const std::string kF = kDir + "fourteen_fulltrained_models_output_data.npz";
const std::string kTA = kDir + "test_data_fourteen_models_outputs.npz";
const std::string kTF = kDir + "test_data_fourteen_fulltrained_models_outputs.npz";

std::vector<int> iota_models(int k) {
  std::vector<int> v;
  for (int i = 1; i <= k; ++i) v.push_back(i);
  return v;
}

// test3011_predictions.csv: filename -> (handpicked_fulldataset, svm_notebook)
std::map<std::string, std::pair<int, int>> reference_predictions() {
  std::ifstream in(kDir + "test3011_predictions.csv");
  std::string line;
  std::getline(in, line);
  REQUIRE(line == "filename,handpicked_fulldataset,svm_notebook");
  std::map<std::string, std::pair<int, int>> out;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string name, a, b;
    std::getline(ss, name, ',');
    std::getline(ss, a, ',');
    std::getline(ss, b, ',');
    out[name] = {std::stoi(a), std::stoi(b)};
  }
  return out;
}

// The notebook's SVM: linear SVC, C = 9e-5, on the softmax of models 1-14 of A-train. Fit once.
const SvmStacker& notebook_svm() {
  static const SvmStacker svm = [] {
    const SplitOutputs train = load_npz_split(kA, "train");
    StackerSpec spec;
    spec.model_ids = train.model_ids;
    spec.svm.C = 0.00009;
    return SvmStacker::fit(spec, stack_features(train, Transform::softmax), train.labels);
  }();
  return svm;
}

}  // namespace

TEST_CASE("the four files load with the README's shapes") {
  const SplitOutputs a = load_npz_split(kA, "train");
  CHECK(a.num_models() == 14);
  CHECK(a.num_images() == 9808);
  CHECK(a.model_ids == iota_models(14));
  CHECK(a.labelled());
  CHECK(a.images.empty());
  CHECK(load_npz_split(kA, "valid").num_images() == 3341);
  CHECK(load_npz_split(kF, "test").num_images() == 1000);
  const SplitOutputs ta = load_npz_split(kTA, "test");
  CHECK(ta.num_images() == 3011);
  CHECK(!ta.labelled());
  REQUIRE(ta.images.size() == 3011);
  CHECK(ta.images[0] == "test_1");
  CHECK(ta.images[3] == "test_1000");
}

TEST_CASE("HandPickedWeights_TrainDataset: raw logits of models 1-8, w = (-1, 5, 10, 10, 1, 5, 2.5, 5)") {
  struct Row {
    const char* split;
    std::size_t correct, total;
    const char* printed;
    Confusion confusion;
  };
  const Row rows[] = {
      {"train", 9235, 9808, "0.941578303426", {{{2565, 168, 23}, {149, 2899, 29}, {72, 132, 3771}}}},
      {"valid", 2586, 3341, "0.774019754565", {{{667, 210, 76}, {180, 779, 89}, {65, 135, 1140}}}},
      {"test", 787, 1000, "0.787", {{{200, 61, 17}, {44, 245, 29}, {20, 42, 342}}}},
  };
  for (const Row& r : rows) {
    CAPTURE(r.split);
    const SplitOutputs d = select_models(load_npz_split(kA, r.split), iota_models(8));
    const Evaluation e = evaluate(d.labels, argmax_rows(weighted_sum(d, {-1, 5, 10, 10, 1, 5, 2.5, 5}, false)));
    CHECK(e.correct == r.correct);
    CHECK(e.total == r.total);
    CHECK(format_g12(e.accuracy()) == r.printed);
    CHECK(e.confusion == r.confusion);
  }
}

TEST_CASE("HandPickedWeights_FullDataset: equal-weight softmax of the 14 full-trained models") {
  const SplitOutputs f = load_npz_split(kF, "test");
  const Confusion expect = {{{212, 53, 13}, {37, 248, 33}, {14, 44, 346}}};
  for (const auto& pred : {argmax_rows(weighted_sum(f, std::vector<double>(14, 1.0), true)), argmax_rows(mean_scores(f, true))}) {
    const Evaluation e = evaluate(f.labels, pred);
    CHECK(format_g12(e.accuracy()) == "0.806");
    CHECK(e.confusion == expect);
  }
  // Its submission cell on the 3011 challenge images.
  const SplitOutputs tf = load_npz_split(kTF, "test");
  const auto pred = argmax_rows(weighted_sum(tf, std::vector<double>(14, 1.0), true));
  CHECK(class_counts(pred) == std::array<std::size_t, 3>{860, 897, 1254});
  const auto ref = reference_predictions();
  REQUIRE(ref.size() == 3011);
  std::size_t same = 0;
  for (std::size_t i = 0; i < pred.size(); ++i) same += ref.at(tf.images[i]).first == pred[i];
  CHECK(same == 3011);
}

TEST_CASE("the stored output_* arrays are the saver's float32 sum (0, 5, 10, 10, 1, 5, 2, 5) of models 1-8") {
  const std::vector<double> w = {0, 5, 10, 10, 1, 5, 2, 5};
  const std::pair<std::string, std::string> sets[] = {{kA, "train"}, {kA, "valid"}, {kA, "test"}, {kF, "test"}, {kTA, "test"}, {kTF, "test"}};
  const auto arrays_a = gler::wi::read_npz(kA);
  for (const auto& [path, split] : sets) {
    CAPTURE(path);
    CAPTURE(split);
    const auto arrays = path == kA ? arrays_a : gler::wi::read_npz(path);
    const gler::wi::NdArray& stored = arrays.at("output_" + split);
    REQUIRE(stored.descr == "<f4");
    const auto sum = weighted_sum(select_models(load_npz_split(path, split), iota_models(8)), w, false);
    REQUIRE(stored.data.size() == sum.size() * 4);
    std::size_t differ = 0;
    for (std::size_t i = 0; i < sum.size(); ++i) {
      float s;
      std::memcpy(&s, stored.data.data() + 4 * i, 4);
      differ += static_cast<double>(s) != sum[i];
    }
    CHECK(differ == 0);
  }
  // ... and their accuracies (README 3b).
  for (const auto& [split, correct] : std::vector<std::pair<std::string, std::size_t>>{{"train", 9144}, {"valid", 2584}, {"test", 786}}) {
    const SplitOutputs d = select_models(load_npz_split(kA, split), iota_models(8));
    CHECK(evaluate(d.labels, argmax_rows(weighted_sum(d, w, false))).correct == correct);
  }
}

TEST_CASE("unweighted ensembles of the 14 models (README 3c)") {
  const SplitOutputs a = load_npz_split(kA, "test"), f = load_npz_split(kF, "test");
  CHECK(evaluate(a.labels, argmax_rows(mean_scores(a, true))).correct == 786);
  CHECK(evaluate(a.labels, argmax_rows(mean_scores(a, false))).correct == 790);
  CHECK(evaluate(a.labels, majority_vote(a)).correct == 781);
  CHECK(evaluate(f.labels, argmax_rows(mean_scores(f, false))).correct == 809);
  CHECK(evaluate(f.labels, majority_vote(f)).correct == 804);
  const SplitOutputs av = load_npz_split(kA, "valid");
  CHECK(evaluate(av.labels, argmax_rows(mean_scores(av, true))).correct == 2569);
  CHECK(evaluate(av.labels, argmax_rows(mean_scores(av, false))).correct == 2570);
}

TEST_CASE("Ensemble_SVM: linear SVC C = 9e-5 on the 42 softmax features of A-train") {
  const SvmStacker& svm = notebook_svm();
  CHECK(svm.classes() == std::vector<int>{0, 1, 2});
  CHECK(svm.n_support() == std::vector<int>{1998, 2157, 1732});
  struct Row {
    const char* split;
    std::size_t correct;
    const char* printed;
    Confusion confusion;
  };
  const Row rows[] = {
      {"train", 9745, "99.3576672104", {{{2743, 11, 2}, {9, 3066, 2}, {10, 29, 3936}}}},
      {"valid", 2586, "77.4019754565", {{{654, 225, 74}, {162, 801, 85}, {59, 150, 1131}}}},
      {"test", 795, "79.5", {{{197, 66, 15}, {36, 256, 26}, {17, 45, 342}}}},
  };
  for (const Row& r : rows) {
    CAPTURE(r.split);
    const SplitOutputs d = load_npz_split(kA, r.split);
    const Evaluation e = evaluate(d.labels, svm.predict(stack_features(d, Transform::softmax)));
    CHECK(e.correct == r.correct);
    CHECK(format_g12(e.accuracy() * 100) == r.printed);
    CHECK(e.confusion == r.confusion);
  }
}

TEST_CASE("Ensemble_SVM: the 3011 challenge predictions, and a saved-and-loaded stacker gives the same") {
  const SplitOutputs ta = load_npz_split(kTA, "test");
  const Features x = stack_features(ta, Transform::softmax);
  const auto pred = notebook_svm().predict(x);
  CHECK(class_counts(pred) == std::array<std::size_t, 3>{843, 928, 1240});
  const auto ref = reference_predictions();
  std::size_t same = 0;
  for (std::size_t i = 0; i < pred.size(); ++i) same += ref.at(ta.images[i]).second == pred[i];
  CHECK(same == 3011);

  const std::string path = (std::filesystem::temp_directory_path() / ("gler_ensemble_paper_svm_" + std::to_string(::getpid()) + ".json")).string();
  notebook_svm().save(path);
  CHECK(SvmStacker::load(path).predict(x) == pred);

  // The fitted model equals the notebook's (exported as linear one-vs-one rules): w = sum of
  // dual coefficient x support vector per class pair, intercept = -rho.
  const gler::json::Value mine = gler::json::parse_file(path);
  const gler::json::Value theirs = gler::json::parse_file(kDir + "svm_notebook_linear_ovo.json");
  std::filesystem::remove(path);
  std::vector<int> start = {0};
  for (const auto& n : mine.at("n_support").as_array()) start.push_back(start.back() + static_cast<int>(n.as_int()));
  const auto& coef = mine.at("dual_coef").as_array();
  const auto& svs = mine.at("support_vectors").as_array();
  int pair = 0;
  for (int i = 0; i < 3; ++i)
    for (int j = i + 1; j < 3; ++j, ++pair) {
      CHECK(theirs.at("pairs").as_array()[pair].as_array()[0].as_int() == i);
      std::vector<double> w(42, 0.0);
      auto add = [&](int cls, int coef_row) {
        for (int s = start[cls]; s < start[cls + 1]; ++s)
          for (int f = 0; f < 42; ++f) w[f] += coef[coef_row].as_array()[s].as_number() * svs[s].as_array()[f].as_number();
      };
      add(i, j - 1);
      add(j, i);
      for (int f = 0; f < 42; ++f) CHECK(w[f] == doctest::Approx(theirs.at("coef").as_array()[pair].as_array()[f].as_number()).epsilon(1e-7));
      CHECK(-mine.at("rho").as_array()[pair].as_number() ==
            doctest::Approx(theirs.at("intercept").as_array()[pair].as_number()).epsilon(1e-7));
    }
}

TEST_CASE("bad inputs are errors, not crashes") {
  CHECK_THROWS_AS(load_npz_split(kA, "eval"), gler::Error);   // no output_eval_model<k>
  CHECK_THROWS_AS(load_npz_split(kF, "train"), gler::Error);  // F holds the test split only
  CHECK_THROWS_AS(select_models(load_npz_split(kA, "test"), {15}), gler::Error);
  CHECK_THROWS_AS(load_npz_split(kDir + "README.md", "test"), gler::Error);
  CHECK_THROWS_AS(load_npz_split(kDir + "missing.npz", "test"), gler::Error);
}
