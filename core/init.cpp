#include "core/init.h"

#include <cmath>

#include "core/backend.h"

namespace gler {

void uniform_(const Tensor& t, double lo, double hi, Generator& gen) {
  Tensor self = t;
  const std::uint64_t offset = gen.advance(static_cast<std::uint64_t>(t.numel()));
  t.backend().random_uniform(self, gen.seed(), offset, lo, hi);
}

void normal_(const Tensor& t, double mean, double std, Generator& gen) {
  Tensor self = t;
  const std::uint64_t offset = gen.advance(static_cast<std::uint64_t>(t.numel()));
  t.backend().random_normal(self, gen.seed(), offset, mean, std);
}

std::int64_t fan_in(const Tensor& weight) {
  GLER_CHECK(weight.ndim() >= 2, "fan_in needs a weight with at least 2 dims, got " << weight.shape().str());
  return weight.shape().prod(1, weight.ndim());
}

void kaiming_normal_(const Tensor& weight, Generator& gen, double a) {
  const double gain = std::sqrt(2.0 / (1.0 + a * a));
  normal_(weight, 0.0, gain / std::sqrt(static_cast<double>(fan_in(weight))), gen);
}

void default_weight_init_(const Tensor& weight, Generator& gen) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in(weight)));
  uniform_(weight, -bound, bound, gen);
}

void default_bias_init_(const Tensor& bias, std::int64_t weight_fan_in, Generator& gen) {
  const double bound = weight_fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(weight_fan_in)) : 0.0;
  uniform_(bias, -bound, bound, gen);
}

}  // namespace gler
