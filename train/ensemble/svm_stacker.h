// SVM stacking: an SVM (libsvm's C-SVC, what scikit-learn's SVC wraps) trained on the models'
// concatenated scores, optionally after standardisation (sklearn's StandardScaler). The fitted
// stacker is plain data (support vectors, dual coefficients, rho), saved losslessly as JSON;
// libsvm computes both the fit and every prediction, so results match sklearn's SVC.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "train/ensemble/combine.h"

namespace gler::ensemble {

enum class Kernel { linear, rbf };
Kernel parse_kernel(const std::string& name);  // "linear" | "rbf"
const char* kernel_name(Kernel k);

struct SvmParams {
  Kernel kernel = Kernel::linear;
  double C = 1.0;
  std::string gamma = "scale";  // "scale" (sklearn's default), "auto", or a positive number; RBF only
  double tol = 1e-3;            // libsvm's eps, sklearn's default
  double cache_mb = 200;        // sklearn's default kernel cache; it does not change the result
};

struct StackerSpec {
  Transform features = Transform::softmax;  // the seed notebook's choice
  std::vector<int> model_ids;               // which models' scores, in order (recorded in saved files)
  bool standardize = false;
  SvmParams svm;
};

class SvmStacker {
 public:
  // Fits on `x` (rows = images) and class labels `y`. The rows are stably sorted by label before
  // libsvm sees them: libsvm orders classes by first appearance and groups the rows per class,
  // sklearn's copy orders them by value; sorting makes both build the same sub-problems, and
  // one-vs-one vote ties go to the lowest class as in sklearn.
  static SvmStacker fit(const StackerSpec& spec, const Features& x, const std::vector<int>& y);

  std::vector<int> predict(const Features& x) const;

  void save(const std::string& path) const;
  static SvmStacker load(const std::string& path);

  const StackerSpec& spec() const { return spec_; }
  double gamma() const { return gamma_; }  // resolved value (unused by the linear kernel)
  std::size_t num_features() const { return dim_; }
  const std::vector<int>& classes() const { return classes_; }
  const std::vector<int>& n_support() const { return n_support_; }  // per class, in classes() order

 private:
  StackerSpec spec_;
  double gamma_ = 0;
  std::size_t dim_ = 0;
  std::vector<double> mean_, scale_;     // standardisation (empty when off)
  std::vector<int> classes_;             // libsvm's class order
  std::vector<int> n_support_;
  std::vector<double> rho_;              // one per class pair, libsvm's pair order
  std::vector<double> dual_coef_;        // (classes - 1) x support vectors, libsvm's layout
  std::vector<double> support_vectors_;  // support vectors x dim_, standardised space

  Features standardized(const Features& x) const;
};

}  // namespace gler::ensemble
