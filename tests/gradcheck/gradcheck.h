// The gradient-check suite: a finite-difference checker (central differences in f64, tolerances
// as torch.autograd.gradcheck: |analytic - numeric| <= atol + rtol*|numeric|) and a registry that
// every op and layer adds its cases to. The runner (gler_gradcheck) prints one line per case.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace gler::gradcheck {

struct Options {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
};

struct Result {
  bool ok = true;
  double max_abs_error = 0;  // over every checked element of every input
  double max_rel_error = 0;
  std::int64_t checked = 0;  // number of elements perturbed
  std::string worst;         // where the largest violation (or error) was
};

// `f` maps the inputs to an output of any shape; every f64 input with requires_grad is checked
// (module parameters too: pass the parameter tensors themselves). The scalar checked is
// sum(f(inputs) * R) for a fixed random R, so every output element contributes with its own weight.
using Function = std::function<Tensor(const std::vector<Tensor>&)>;
Result check(const Function& f, const std::vector<Tensor>& inputs, const Options& opt = {});

// Inputs for cases: f64 CPU tensors with values from a fixed seed, requiring gradients.
Tensor random_input(const Shape& shape, std::uint64_t seed, double lo = -1.0, double hi = 1.0);

struct Case {
  std::string name;
  std::function<Result()> run;
};
std::vector<Case>& registry();

struct Registrar {
  Registrar(const std::string& name, std::function<Result()> run) { registry().push_back({name, std::move(run)}); }
};

}  // namespace gler::gradcheck

#define GLER_GRADCHECK_CONCAT2(a, b) a##b
#define GLER_GRADCHECK_CONCAT(a, b) GLER_GRADCHECK_CONCAT2(a, b)
// GLER_GRADCHECK("conv2d/stride2") { ... return gradcheck::check(...); }
#define GLER_GRADCHECK(name)                                                                    \
  static ::gler::gradcheck::Result GLER_GRADCHECK_CONCAT(gradcheck_case_, __LINE__)();          \
  static const ::gler::gradcheck::Registrar GLER_GRADCHECK_CONCAT(gradcheck_reg_, __LINE__)(    \
      name, GLER_GRADCHECK_CONCAT(gradcheck_case_, __LINE__));                                  \
  static ::gler::gradcheck::Result GLER_GRADCHECK_CONCAT(gradcheck_case_, __LINE__)()
