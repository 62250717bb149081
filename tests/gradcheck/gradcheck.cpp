#include "tests/gradcheck/gradcheck.h"

#include <cmath>
#include <sstream>

#include "core/autograd.h"
#include "core/init.h"
#include "core/ops.h"

namespace gler::gradcheck {

std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

Tensor random_input(const Shape& shape, std::uint64_t seed, double lo, double hi) {
  Generator gen(seed);
  Tensor t = Tensor::empty(shape, DType::f64);
  uniform_(t, lo, hi, gen);
  t.requires_grad_(true);
  return t;
}

namespace {
double weighted_sum(const Tensor& y, const std::vector<double>& r) {
  auto v = y.to_vector<double>();
  double s = 0;
  for (std::size_t i = 0; i < v.size(); ++i) s += v[i] * r[i];
  return s;
}
}  // namespace

Result check(const Function& f, const std::vector<Tensor>& inputs, const Options& opt) {
  Result res;
  for (const auto& x : inputs) x.zero_grad();
  Tensor y = f(inputs);
  GLER_CHECK(y.dtype() == DType::f64, "gradcheck runs in f64, the function returned " << describe(y));
  Tensor r = Tensor::empty(y.shape(), DType::f64, y.device());
  Generator gen(12345);
  uniform_(r, 0.5, 1.5, gen);
  const std::vector<double> rv = r.to_vector<double>();
  GLER_CHECK(y.requires_grad(), "gradcheck: the output does not depend on any checked input");
  backward(y, r);

  NoGradGuard no_grad;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& x = inputs[k];
    if (!x.requires_grad()) continue;
    GLER_CHECK(x.dtype() == DType::f64 && x.device() == Device::CPU, "gradcheck inputs must be f64 on the CPU");
    Tensor g = x.grad();
    const std::vector<double> analytic = g.defined() ? g.to_vector<double>() : std::vector<double>(x.numel(), 0.0);
    double* p = x.data<double>();
    for (std::int64_t i = 0; i < x.numel(); ++i) {
      const double saved = p[i];
      p[i] = saved + opt.eps;
      const double plus = weighted_sum(f(inputs), rv);
      p[i] = saved - opt.eps;
      const double minus = weighted_sum(f(inputs), rv);
      p[i] = saved;
      const double numeric = (plus - minus) / (2 * opt.eps);
      const double err = std::abs(analytic[static_cast<std::size_t>(i)] - numeric);
      const double rel = err / std::max(std::abs(numeric), 1e-12);
      ++res.checked;
      res.max_abs_error = std::max(res.max_abs_error, err);
      if (err > opt.atol) res.max_rel_error = std::max(res.max_rel_error, rel);
      if (err > opt.atol + opt.rtol * std::abs(numeric) && res.ok) {
        res.ok = false;
        std::ostringstream os;
        os << "input " << k << " element " << i << ": analytic " << analytic[static_cast<std::size_t>(i)]
           << " vs numeric " << numeric;
        res.worst = os.str();
      }
    }
  }
  for (const auto& x : inputs) x.zero_grad();
  return res;
}

}  // namespace gler::gradcheck
