// Small tensor helpers shared by the test suites.
#pragma once
#include <string>
#include <vector>

#include "core/init.h"
#include "core/module.h"

namespace gler::test {

// An f32 CPU tensor of uniform values in [lo, hi), drawn from gen (or from a fresh Generator(seed)).
inline Tensor uniform_tensor(const Shape& shape, Generator& gen, double lo = -1.0, double hi = 1.0) {
  Tensor t = Tensor::empty(shape);
  uniform_(t, lo, hi, gen);
  return t;
}
inline Tensor uniform_tensor(const Shape& shape, std::uint64_t seed, double lo = -1.0, double hi = 1.0) {
  Generator gen(seed);
  return uniform_tensor(shape, gen, lo, hi);
}

// The names of a state dict or parameter list, in order.
inline std::vector<std::string> names(const NamedTensors& entries) {
  std::vector<std::string> out;
  for (const auto& [n, t] : entries) out.push_back(n);
  return out;
}

}  // namespace gler::test
