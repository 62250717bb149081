// Small tensor helpers shared by the test suites.
#pragma once
// Include after <doctest/doctest.h>: expect_error_naming uses its CHECK macros.
#include <initializer_list>
#include <string>
#include <vector>

#include "core/error.h"
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

// The message of the gler::Error that f() throws; empty when it throws none.
template <class F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Checks that f() throws a gler::Error whose message contains every one of `words`.
template <class F>
void expect_error_naming(const char* what, std::initializer_list<const char*> words, F&& f) {
  CAPTURE(what);
  const std::string message = error_message(f);
  for (const char* w : words) CHECK_MESSAGE(message.find(w) != std::string::npos, "no '" << w << "' in: " << message);
}

}  // namespace gler::test
