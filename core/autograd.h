// Autograd-lite: each differentiable op records a Node (its inputs and a backward closure) on
// the output tensor; backward(loss) walks the recorded graph in reverse topological order and
// accumulates gradients into leaves that asked for them (parameters) and retained non-leaves.
#pragma once
#include <functional>
#include <vector>

#include "core/tensor.h"

namespace gler {

// Given the gradient of the op's output, returns one gradient per recorded input (an undefined
// Tensor where that input needs none). Backward closures compute with kernels, never recorded.
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

// A backward closure may read its inputs and its output, so record() notes their storages'
// versions and backward() refuses to run a node when any of them was written in place since
// (as PyTorch does), instead of computing a silently wrong gradient.
struct Node {
  const char* name;
  std::vector<Tensor> inputs;
  BackwardFn backward;
  std::vector<std::uint64_t> input_versions;
  std::shared_ptr<Storage> output_storage;
  std::uint64_t output_version = 0;
};

// Whether ops record a graph on this thread. Off inside a NoGradGuard.
bool grad_enabled();

class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// True when recording is on and any input requires a gradient.
bool needs_graph(const std::vector<Tensor>& inputs);

// Attaches a Node to `output` when needs_graph(inputs); returns output.
Tensor record(Tensor output, const char* name, std::vector<Tensor> inputs, BackwardFn backward);

// Runs the backward pass from `root`. `grad` defaults to ones (root must then be a scalar).
void backward(const Tensor& root, const Tensor& grad = Tensor());

}  // namespace gler
