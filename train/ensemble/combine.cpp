#include "train/ensemble/combine.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace gler::ensemble {

Transform parse_transform(const std::string& name) {
  if (name == "logits") return Transform::logits;
  if (name == "softmax") return Transform::softmax;
  if (name == "log-softmax") return Transform::log_softmax;
  GLER_FAIL("unknown features '" << name << "' (expected softmax, logits or log-softmax)");
}

const char* transform_name(Transform t) {
  switch (t) {
    case Transform::logits: return "logits";
    case Transform::softmax: return "softmax";
    case Transform::log_softmax: return "log-softmax";
  }
  return "?";
}

// Max-subtracted, in float64. The seed's notebooks exponentiate in float32 without subtracting
// the max; with |logit| <= 71 neither overflows, and both give the same predictions on every
// split (data README), so the stable form is used.
std::vector<double> transform_scores(const std::vector<float>& logits, Transform t) {
  std::vector<double> out(logits.begin(), logits.end());
  if (t == Transform::logits) return out;
  for (std::size_t i = 0; i < out.size(); i += kNumClasses) {
    double* r = out.data() + i;
    double m = std::max({r[0], r[1], r[2]});
    double sum = 0;
    for (int c = 0; c < kNumClasses; ++c) sum += std::exp(r[c] - m);
    for (int c = 0; c < kNumClasses; ++c) r[c] = t == Transform::softmax ? std::exp(r[c] - m) / sum : r[c] - m - std::log(sum);
  }
  return out;
}

std::vector<double> weighted_sum(const SplitOutputs& outputs, const std::vector<double>& weights, bool softmax) {
  GLER_CHECK(weights.size() == outputs.num_models(),
             weights.size() << " weights for " << outputs.num_models() << " models (choose the models with --models)");
  const std::size_t n = outputs.num_images() * kNumClasses;
  if (!softmax) {
    std::vector<float> acc(n, 0.0f);
    for (std::size_t m = 0; m < weights.size(); ++m) {
      const float w = static_cast<float>(weights[m]);
      const std::vector<float>& x = outputs.logits[m];
      for (std::size_t i = 0; i < n; ++i) acc[i] = m == 0 ? w * x[i] : acc[i] + w * x[i];
    }
    return std::vector<double>(acc.begin(), acc.end());
  }
  std::vector<double> acc(n, 0.0);
  for (std::size_t m = 0; m < weights.size(); ++m) {
    const std::vector<double> p = transform_scores(outputs.logits[m], Transform::softmax);
    for (std::size_t i = 0; i < n; ++i) acc[i] += weights[m] * p[i];
  }
  return acc;
}

std::vector<double> mean_scores(const SplitOutputs& outputs, bool softmax) {
  const std::size_t n = outputs.num_images() * kNumClasses;
  std::vector<double> acc(n, 0.0);
  for (const auto& logits : outputs.logits) {
    const std::vector<double> s = transform_scores(logits, softmax ? Transform::softmax : Transform::logits);
    for (std::size_t i = 0; i < n; ++i) acc[i] += s[i];
  }
  for (double& a : acc) a /= static_cast<double>(outputs.num_models());
  return acc;
}

std::vector<int> argmax_rows(const std::vector<double>& scores) {
  std::vector<int> out(scores.size() / kNumClasses);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const double* r = scores.data() + i * kNumClasses;
    int best = 0;
    for (int c = 1; c < kNumClasses; ++c)
      if (r[c] > r[best]) best = c;
    out[i] = best;
  }
  return out;
}

std::vector<int> majority_vote(const SplitOutputs& outputs) {
  std::vector<std::vector<int>> votes;
  for (const auto& logits : outputs.logits) votes.push_back(argmax_rows(transform_scores(logits, Transform::logits)));
  std::vector<int> out(outputs.num_images());
  for (std::size_t i = 0; i < out.size(); ++i) {
    int count[kNumClasses] = {};
    for (const auto& v : votes) ++count[v[i]];
    out[i] = static_cast<int>(std::max_element(count, count + kNumClasses) - count);  // first maximum
  }
  return out;
}

Features stack_features(const SplitOutputs& outputs, Transform t) {
  Features f;
  f.rows = outputs.num_images();
  f.cols = outputs.num_models() * kNumClasses;
  f.data.resize(f.rows * f.cols);
  for (std::size_t m = 0; m < outputs.num_models(); ++m) {
    const std::vector<double> s = transform_scores(outputs.logits[m], t);
    for (std::size_t i = 0; i < f.rows; ++i)
      for (int c = 0; c < kNumClasses; ++c) f.row(i)[m * kNumClasses + c] = s[i * kNumClasses + c];
  }
  return f;
}

}  // namespace gler::ensemble
