// The optimiser base: parameter groups, per-parameter state and the step loop torch.optim runs.
// A parameter is updated by step() when it has a gradient, as in PyTorch, where SGD and Adam skip
// a parameter whose .grad is None: so a branch that backward never reaches (the seed's detached
// DenseNet and attention-score layers, SEED_SPEC §4.11) stays where it is. Parameters with
// requires_grad false are left out at construction, and a group with lr 0 is skipped whole: the
// two ways the seed freezes a module.
//
// Memory: a parameter's state (momentum buffer, Adam moments) is allocated when it is first
// updated, on its device and in its dtype; the intermediate values of an update live in a few
// scratch buffers shared by all parameters of one device and dtype, sized to the largest and
// allocated at the first step. Later steps allocate no tensor memory.
//
// Checkpoints: state_dict() names every state tensor "<parameter name>.<state>" (torch's state
// names: momentum_buffer, exp_avg, exp_avg_sq, max_exp_avg_sq) plus "<parameter name>.step", the
// parameter's update count (i64 scalar); load_state_dict() restores them, so N steps, save, load
// into a fresh optimiser and M steps give what N + M steps give, bit for bit. Learning rates are
// not state: the schedule sets them from the epoch (step_lr.h).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "train/optim/param_group.h"

namespace gler::train {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter that has a gradient, in every group whose lr is not 0.
  // Runs without recording a graph; the parameters are written in place.
  void step();
  // torch.optim's zero_grad(): existing gradients are filled with zeros and kept (as torch 0.4
  // and 1.13's default do, so a parameter that once had a gradient keeps being stepped, its
  // momentum carrying it, even when a batch does not reach it); set_to_none drops them instead.
  void zero_grad(bool set_to_none = false) const;

  std::size_t group_count() const { return groups_.size(); }
  const ParamGroup& group(std::size_t index) const;
  void set_lr(std::size_t group, double lr);
  // The parameters step() may update (requires_grad), in group order.
  std::vector<std::string> parameter_names() const;

  NamedTensors state_dict() const;
  // Replaces the state of every parameter named in `state`; parameters it does not name start
  // afresh (no state, step 0). Unknown names, a parameter with some of its state missing, and
  // mis-shaped or non-floating tensors throw one error listing them all. Values are copied to the
  // parameter's device and dtype.
  void load_state_dict(const NamedTensors& state);

 protected:
  // `state_names`: the tensors each parameter keeps, each shaped like it; `scratch_count`: the
  // parameter-sized temporaries one update needs.
  Optimizer(std::vector<ParamGroup> groups, std::vector<std::string> state_names, int scratch_count);

  struct Slot {
    std::string name;
    Tensor param;
    std::size_t group = 0;
    std::vector<Tensor> state;    // one per state name; empty until the first update
    std::int64_t steps = 0;       // updates so far (torch's state['step'])
    std::vector<Tensor> scratch;  // views of the shared scratch buffers, shaped like param
    Tensor scalar;                // a one-element tensor for per-step scalar operands
  };
  // Called by step() with the slot's state allocated (zeros on its first update), `steps` still
  // counting the updates before this one.
  virtual void update(Slot& slot, const Tensor& grad, const ParamGroup& group) = 0;

 private:
  struct Pool {
    Device device;
    DType dtype;
    std::vector<Tensor> buffers;
    Tensor scalar;
  };
  void prepare(Slot& slot);
  Pool& pool_for(const Tensor& param);

  std::vector<ParamGroup> groups_;
  std::vector<std::string> state_names_;
  int scratch_count_;
  std::vector<Slot> slots_;
  std::vector<Pool> pools_;
};

}  // namespace gler::train
