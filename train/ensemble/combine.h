// Fixed-rule ensembles: weighted sums, means and majority votes of the models' scores, and the
// per-model score transforms (softmax, log-softmax) that they and the SVM stacker share.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "train/ensemble/model_outputs.h"

namespace gler::ensemble {

enum class Transform { logits, softmax, log_softmax };
Transform parse_transform(const std::string& name);  // "logits" | "softmax" | "log-softmax"
const char* transform_name(Transform t);

// Row-wise transform of one model's (N, 3) logits, in float64.
std::vector<double> transform_scores(const std::vector<float>& logits, Transform t);

// sum_k w_k * scores_k. On raw logits (softmax = false) the sum is taken in float32, term by term
// in model order, as the seed's torch/numpy code did: this reproduces its stored output_* arrays
// bit for bit and its argmax ties. With softmax it is taken in float64, like the notebook's.
std::vector<double> weighted_sum(const SplitOutputs& outputs, const std::vector<double>& weights, bool softmax);

// The mean over models of the raw logits or of their softmax, in float64.
std::vector<double> mean_scores(const SplitOutputs& outputs, bool softmax);

// Row-wise argmax of (N, 3) scores; ties go to the lowest class, as np.argmax.
std::vector<int> argmax_rows(const std::vector<double>& scores);

// Each model votes for its argmax class; the most voted class wins, ties to the lowest class.
std::vector<int> majority_vote(const SplitOutputs& outputs);

// A dense row-major feature matrix (the SVM stacker's input).
struct Features {
  std::size_t rows = 0, cols = 0;
  std::vector<double> data;
  const double* row(std::size_t i) const { return data.data() + i * cols; }
  double* row(std::size_t i) { return data.data() + i * cols; }
};

// The models' transformed scores side by side, model order: [m1 c0, m1 c1, m1 c2, m2 c0, ...].
Features stack_features(const SplitOutputs& outputs, Transform t);

}  // namespace gler::ensemble
