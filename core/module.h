// Module: the parameter and buffer registry every layer and network derives from. Names are
// PyTorch's dotted state-dict names, in PyTorch's order (own parameters, own buffers, then
// children, recursively), so a state dict here is key-for-key the one torch would write.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace gler {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Train/eval mode for this module and all children (BatchNorm, Dropout).
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  NamedTensors named_parameters() const;
  NamedTensors named_buffers() const;
  NamedTensors state_dict() const;
  std::vector<Tensor> parameters() const;
  void zero_grad() const;

  // Copies values by name. Missing, unexpected or mis-shaped entries throw one error listing all.
  void load_state_dict(const NamedTensors& values, bool strict = true) const;
  // Moves every parameter and buffer to `device` in place (handles held by layers stay valid).
  void to(Device device) const;
  // Converts every floating parameter and buffer (f32 <-> f64 for gradient checks).
  void to(DType dtype) const;

 protected:
  // Registers and returns the tensor; parameters get requires_grad.
  Tensor register_parameter(const std::string& name, Tensor t);
  Tensor register_buffer(const std::string& name, Tensor t);
  // The child must outlive this module (a member, or owned through a unique_ptr member).
  void register_module(const std::string& name, Module& child);

 private:
  void collect(const std::string& prefix, bool params, bool buffers, NamedTensors& out) const;
  std::vector<std::pair<std::string, Tensor>> params_, buffers_;
  std::vector<std::pair<std::string, Module*>> children_;
  bool training_ = true;
};

}  // namespace gler
