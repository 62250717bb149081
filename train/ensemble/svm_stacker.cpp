#include "train/ensemble/svm_stacker.h"

#include <svm.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>
#include <numeric>
#include <thread>

#include "core/error.h"
#include "io/json.h"

namespace gler::ensemble {

Kernel parse_kernel(const std::string& name) {
  if (name == "linear") return Kernel::linear;
  if (name == "rbf") return Kernel::rbf;
  GLER_FAIL("unknown kernel '" << name << "' (expected linear or rbf)");
}

const char* kernel_name(Kernel k) { return k == Kernel::linear ? "linear" : "rbf"; }

namespace {

// libsvm's sparse rows: every feature is stored (zeros too, which changes no dot product) with
// 1-based indices, then the index -1 terminator.
class NodeRows {
 public:
  NodeRows(const Features& x, const std::vector<std::size_t>& order) : nodes_(order.size() * (x.cols + 1)), rows_(order.size()) {
    for (std::size_t r = 0; r < order.size(); ++r) {
      svm_node* n = nodes_.data() + r * (x.cols + 1);
      for (std::size_t j = 0; j < x.cols; ++j) n[j] = {static_cast<int>(j + 1), x.row(order[r])[j]};
      n[x.cols] = {-1, 0.0};
      rows_[r] = n;
    }
  }
  svm_node** rows() { return rows_.data(); }

 private:
  std::vector<svm_node> nodes_;
  std::vector<svm_node*> rows_;
};

struct ModelDeleter {
  void operator()(svm_model* m) const { svm_free_and_destroy_model(&m); }
};

void quiet(const char*) {}  // libsvm prints its optimisation log to stdout otherwise

double resolve_gamma(const SvmParams& p, const Features& x) {
  const double d = static_cast<double>(x.cols);
  if (p.gamma == "auto") return 1.0 / d;
  if (p.gamma == "scale") {  // 1 / (n_features * X.var()), the variance over every entry
    double mean = 0, var = 0;
    for (double v : x.data) mean += v;
    mean /= static_cast<double>(x.data.size());
    for (double v : x.data) var += (v - mean) * (v - mean);
    var /= static_cast<double>(x.data.size());
    return var > 0 ? 1.0 / (d * var) : 1.0;
  }
  char* end = nullptr;
  double g = std::strtod(p.gamma.c_str(), &end);
  GLER_CHECK(end && *end == '\0' && !p.gamma.empty() && g > 0, "gamma must be scale, auto or a positive number, got '" << p.gamma << "'");
  return g;
}

svm_parameter libsvm_parameter(const SvmParams& p, double gamma) {
  svm_parameter param{};
  param.svm_type = C_SVC;
  param.kernel_type = p.kernel == Kernel::linear ? LINEAR : RBF;
  param.degree = 3;
  param.gamma = gamma;
  param.coef0 = 0;
  param.cache_size = p.cache_mb;
  param.eps = p.tol;
  param.C = p.C;
  param.nu = 0.5;
  param.p = 0.1;
  param.shrinking = 1;
  param.probability = 0;
  return param;
}

}  // namespace

Features SvmStacker::standardized(const Features& x) const {
  GLER_CHECK(x.cols == dim_, "the SVM was fit on " << dim_ << " features, got " << x.cols);
  if (mean_.empty()) return x;
  Features out = x;
  for (std::size_t i = 0; i < out.rows; ++i)
    for (std::size_t j = 0; j < out.cols; ++j) out.row(i)[j] = (out.row(i)[j] - mean_[j]) / scale_[j];
  return out;
}

SvmStacker SvmStacker::fit(const StackerSpec& spec, const Features& x_raw, const std::vector<int>& y) {
  GLER_CHECK(x_raw.rows == y.size() && x_raw.rows > 0, "mismatched lengths: " << x_raw.rows << " feature rows, " << y.size() << " labels");
  GLER_CHECK(spec.svm.C > 0, "C must be positive, got " << spec.svm.C);
  SvmStacker s;
  s.spec_ = spec;
  s.dim_ = x_raw.cols;

  if (spec.standardize) {  // StandardScaler: population std; constant columns keep scale 1
    const double n = static_cast<double>(x_raw.rows);
    s.mean_.assign(s.dim_, 0.0);
    s.scale_.assign(s.dim_, 0.0);
    for (std::size_t i = 0; i < x_raw.rows; ++i)
      for (std::size_t j = 0; j < s.dim_; ++j) s.mean_[j] += x_raw.row(i)[j];
    for (double& m : s.mean_) m /= n;
    for (std::size_t i = 0; i < x_raw.rows; ++i)
      for (std::size_t j = 0; j < s.dim_; ++j) s.scale_[j] += (x_raw.row(i)[j] - s.mean_[j]) * (x_raw.row(i)[j] - s.mean_[j]);
    for (double& v : s.scale_) {
      v = std::sqrt(v / n);
      if (v < 10 * std::numeric_limits<double>::epsilon()) v = 1.0;
    }
  }
  const Features x = s.standardized(x_raw);
  s.gamma_ = resolve_gamma(spec.svm, x);

  std::vector<std::size_t> order(x.rows);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return y[a] < y[b]; });
  GLER_CHECK(y[order.front()] != y[order.back()], "the SVM needs at least two classes in its training data");
  NodeRows rows(x, order);
  std::vector<double> labels(x.rows);
  for (std::size_t r = 0; r < x.rows; ++r) labels[r] = y[order[r]];

  svm_problem prob{static_cast<int>(x.rows), labels.data(), rows.rows()};
  const svm_parameter param = libsvm_parameter(spec.svm, s.gamma_);
  if (const char* err = svm_check_parameter(&prob, &param)) GLER_FAIL("libsvm: " << err);
  svm_set_print_string_function(quiet);
  std::unique_ptr<svm_model, ModelDeleter> model(svm_train(&prob, &param));
  GLER_CHECK(model, "libsvm: training failed");

  // Copy the model out while the rows its support vectors point into are alive.
  const int k = model->nr_class, l = model->l;
  s.classes_.assign(model->label, model->label + k);
  s.n_support_.assign(model->nSV, model->nSV + k);
  s.rho_.assign(model->rho, model->rho + k * (k - 1) / 2);
  for (int c = 0; c < k - 1; ++c) s.dual_coef_.insert(s.dual_coef_.end(), model->sv_coef[c], model->sv_coef[c] + l);
  s.support_vectors_.assign(static_cast<std::size_t>(l) * s.dim_, 0.0);
  for (int i = 0; i < l; ++i)
    for (const svm_node* n = model->SV[i]; n->index != -1; ++n)
      s.support_vectors_[static_cast<std::size_t>(i) * s.dim_ + static_cast<std::size_t>(n->index - 1)] = n->value;
  return s;
}

std::vector<int> SvmStacker::predict(const Features& x_raw) const {
  const Features x = standardized(x_raw);
  const std::size_t l = support_vectors_.size() / dim_;

  // A libsvm model viewing this object's data (copied where libsvm's struct wants non-const).
  Features svs{l, dim_, support_vectors_};
  std::vector<std::size_t> all(l);
  std::iota(all.begin(), all.end(), 0);
  NodeRows sv_rows(svs, all);
  std::vector<double> dual_coef = dual_coef_, rho = rho_;
  std::vector<double*> coef_rows;
  for (std::size_t c = 0; c + 1 < classes_.size(); ++c) coef_rows.push_back(dual_coef.data() + c * l);
  std::vector<int> classes = classes_, n_support = n_support_;

  svm_model model{};
  model.param = libsvm_parameter(spec_.svm, gamma_);
  model.nr_class = static_cast<int>(classes.size());
  model.l = static_cast<int>(l);
  model.SV = sv_rows.rows();
  model.sv_coef = coef_rows.data();
  model.rho = rho.data();
  model.label = classes.data();
  model.nSV = n_support.data();
  model.free_sv = 0;

  std::vector<std::size_t> order(x.rows);
  std::iota(order.begin(), order.end(), 0);
  NodeRows rows(x, order);
  // Rows are independent and libsvm only reads the model, so threads share them out.
  std::vector<int> out(x.rows);
  const std::size_t n_threads = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 1 + x.rows / 512);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < n_threads; ++t)
    threads.emplace_back([&, t] {
      std::vector<double> dec(classes.size() * (classes.size() - 1) / 2);
      for (std::size_t i = t; i < x.rows; i += n_threads)
        out[i] = static_cast<int>(svm_predict_values(&model, rows.rows()[i], dec.data()));
    });
  for (auto& th : threads) th.join();
  return out;
}

// ---------------------------------------------------------------------------------------------
// Saved form: JSON, numbers in shortest round-trip form, so a loaded stacker predicts exactly
// what the fitted one did (libsvm's own model files print support vectors with 8 digits).

namespace {

json::Value to_array(const double* v, std::size_t n) {
  json::Array a;
  for (std::size_t i = 0; i < n; ++i) a.emplace_back(v[i]);
  return a;
}

json::Value to_array(const std::vector<int>& v) {
  json::Array a;
  for (int x : v) a.emplace_back(x);
  return a;
}

std::vector<double> doubles(const json::Value& v) {
  std::vector<double> out;
  for (const auto& x : v.as_array()) out.push_back(x.as_number());
  return out;
}

std::vector<int> ints(const json::Value& v) {
  std::vector<int> out;
  for (const auto& x : v.as_array()) out.push_back(static_cast<int>(x.as_int()));
  return out;
}

constexpr const char* kFormat = "gler_ensemble svm stacker v1";

}  // namespace

void SvmStacker::save(const std::string& path) const {
  const std::size_t l = support_vectors_.size() / dim_;
  json::Value v;
  v.set("format", kFormat);
  v.set("features", transform_name(spec_.features));
  v.set("models", to_array(spec_.model_ids));
  v.set("standardize", spec_.standardize);
  v.set("mean", to_array(mean_.data(), mean_.size()));
  v.set("scale", to_array(scale_.data(), scale_.size()));
  v.set("kernel", kernel_name(spec_.svm.kernel));
  v.set("C", spec_.svm.C);
  v.set("gamma_spec", spec_.svm.gamma);
  v.set("gamma", gamma_);
  v.set("tol", spec_.svm.tol);
  v.set("classes", to_array(classes_));
  v.set("n_support", to_array(n_support_));
  v.set("rho", to_array(rho_.data(), rho_.size()));
  json::Array coef, svs;
  for (std::size_t c = 0; c + 1 < classes_.size(); ++c) coef.push_back(to_array(dual_coef_.data() + c * l, l));
  for (std::size_t i = 0; i < l; ++i) svs.push_back(to_array(support_vectors_.data() + i * dim_, dim_));
  v.set("dual_coef", std::move(coef));
  v.set("support_vectors", std::move(svs));
  json::write_file(path, v);
}

SvmStacker SvmStacker::load(const std::string& path) {
  const json::Value v = json::parse_file(path);
  SvmStacker s;
  try {
    GLER_CHECK(v.is_object() && v.find("format") && v.at("format").is_string() && v.at("format").as_string() == kFormat,
               "not a gler_ensemble SVM file (expected \"format\": \"" << kFormat << "\")");
    s.spec_.features = parse_transform(v.at("features").as_string());
    s.spec_.model_ids = ints(v.at("models"));
    s.spec_.standardize = v.at("standardize").as_bool();
    s.mean_ = doubles(v.at("mean"));
    s.scale_ = doubles(v.at("scale"));
    s.spec_.svm.kernel = parse_kernel(v.at("kernel").as_string());
    s.spec_.svm.C = v.at("C").as_number();
    s.gamma_ = v.at("gamma").as_number();
    s.spec_.svm.gamma = v.at("gamma_spec").as_string();
    s.spec_.svm.tol = v.at("tol").as_number();
    s.classes_ = ints(v.at("classes"));
    s.n_support_ = ints(v.at("n_support"));
    s.rho_ = doubles(v.at("rho"));
    s.dim_ = s.spec_.model_ids.size() * kNumClasses;

    const std::size_t k = s.classes_.size();
    std::size_t l = 0;
    for (int n : s.n_support_) l += static_cast<std::size_t>(n);
    GLER_CHECK(k >= 2 && s.n_support_.size() == k && s.rho_.size() == k * (k - 1) / 2, "inconsistent class counts");
    for (int c : s.classes_) GLER_CHECK(c >= 0 && c < kNumClasses, "class " << c << " is not in 0..2");
    GLER_CHECK(!s.spec_.standardize || (s.mean_.size() == s.dim_ && s.scale_.size() == s.dim_), "mean/scale must have " << s.dim_ << " values");
    if (!s.spec_.standardize) GLER_CHECK(s.mean_.empty() && s.scale_.empty(), "mean/scale given without standardize");
    const json::Array& coef = v.at("dual_coef").as_array();
    GLER_CHECK(coef.size() == k - 1, "dual_coef must have " << k - 1 << " rows");
    for (const auto& row : coef) {
      auto r = doubles(row);
      GLER_CHECK(r.size() == l, "dual_coef rows must have " << l << " values (the support vectors)");
      s.dual_coef_.insert(s.dual_coef_.end(), r.begin(), r.end());
    }
    const json::Array& svs = v.at("support_vectors").as_array();
    GLER_CHECK(svs.size() == l, "support_vectors must have " << l << " rows (sum of n_support)");
    for (const auto& row : svs) {
      auto r = doubles(row);
      GLER_CHECK(r.size() == s.dim_, "support vectors must have " << s.dim_ << " values (3 per model)");
      s.support_vectors_.insert(s.support_vectors_.end(), r.begin(), r.end());
    }
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  return s;
}

}  // namespace gler::ensemble
