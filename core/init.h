// Random initialisation with explicit, seedable generators (no global RNG state): the same
// Generator seed gives the same parameters on CPU and CUDA.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace gler {

class Generator {
 public:
  explicit Generator(std::uint64_t seed) : seed_(seed) {}
  std::uint64_t seed() const { return seed_; }
  // Reserves Philox counters for `count` values and returns the first counter.
  std::uint64_t advance(std::uint64_t count) {
    const std::uint64_t first = offset_;
    offset_ += (count + 3) / 4;
    return first;
  }

 private:
  std::uint64_t seed_;
  std::uint64_t offset_ = 0;
};

void uniform_(const Tensor& t, double lo, double hi, Generator& gen);
void normal_(const Tensor& t, double mean, double std, Generator& gen);

// fan_in = size(1) * prod(size(2..)), as torch.nn.init._calculate_fan_in_and_fan_out.
std::int64_t fan_in(const Tensor& weight);
// nn.init.kaiming_normal_(w, a, mode='fan_in', nonlinearity='leaky_relu'): std = sqrt(2/(1+a²)) / sqrt(fan_in).
void kaiming_normal_(const Tensor& weight, Generator& gen, double a = 0.0);
// PyTorch's default for Linear and Conv weights (kaiming_uniform_ with a=√5): U(±1/√fan_in).
void default_weight_init_(const Tensor& weight, Generator& gen);
// PyTorch's default bias: U(±1/√fan_in) of the layer's weight.
void default_bias_init_(const Tensor& bias, std::int64_t weight_fan_in, Generator& gen);

}  // namespace gler
