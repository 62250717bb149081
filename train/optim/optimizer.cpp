#include "train/optim/optimizer.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "core/autograd.h"

namespace gler::train {

namespace {
// A parameter's keys in state_dict() order: its state tensors, then its step count.
std::vector<std::string> state_keys(const std::string& param, const std::vector<std::string>& state_names) {
  std::vector<std::string> keys;
  for (const auto& s : state_names) keys.push_back(param + "." + s);
  keys.push_back(param + ".step");
  return keys;
}

// Throws unless t has the parameter's device and dtype (the message, naming t, is built only then).
void check_matches(const Tensor& t, const Tensor& param, const std::string& name, const char* separator,
                   const std::string& role) {
  if (t.device() != param.device() || t.dtype() != param.dtype())
    check_operand(t, "optimiser step", (name + separator + role).c_str(), param.device(), param.dtype());
}
}  // namespace

Optimizer::Optimizer(std::vector<ParamGroup> groups, std::vector<std::string> state_names, int scratch_count)
    : groups_(std::move(groups)), state_names_(std::move(state_names)), scratch_count_(scratch_count) {
  GLER_CHECK(!groups_.empty(), "optimiser: no parameter groups");
  std::set<std::string> names;
  std::set<const TensorImpl*> tensors;
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const ParamGroup& group = groups_[g];
    GLER_CHECK(std::isfinite(group.lr) && group.lr >= 0, "optimiser: group " << g << " has lr " << group.lr);
    GLER_CHECK(std::isfinite(group.weight_decay) && group.weight_decay >= 0,
               "optimiser: group " << g << " has weight decay " << group.weight_decay);
    for (const auto& [name, param] : group.params) {
      GLER_CHECK(param.defined(), "optimiser: parameter " << name << " is undefined");
      GLER_CHECK(is_floating(param.dtype()),
                 "optimiser: parameter " << name << " is " << describe(param) << ", expected f32 or f64");
      GLER_CHECK(names.insert(name).second, "optimiser: parameter " << name << " is listed twice");
      GLER_CHECK(tensors.insert(&param.impl()).second,
                 "optimiser: parameter " << name << " is the same tensor as another listed parameter");
      if (param.requires_grad()) {
        Slot slot;
        slot.name = name;
        slot.param = param;
        slot.group = g;
        slots_.push_back(std::move(slot));
      }
    }
  }
}

const ParamGroup& Optimizer::group(std::size_t index) const {
  GLER_CHECK(index < groups_.size(), "optimiser: no group " << index << " (it has " << groups_.size() << ")");
  return groups_[index];
}

void Optimizer::set_lr(std::size_t group, double lr) {
  GLER_CHECK(group < groups_.size(), "optimiser: no group " << group << " (it has " << groups_.size() << ")");
  GLER_CHECK(std::isfinite(lr) && lr >= 0, "optimiser: lr " << lr << " for group " << group);
  groups_[group].lr = lr;
}

std::vector<std::string> Optimizer::parameter_names() const {
  std::vector<std::string> out;
  for (const Slot& s : slots_) out.push_back(s.name);
  return out;
}

Optimizer::Pool& Optimizer::pool_for(const Tensor& param) {
  for (Pool& p : pools_)
    if (p.device == param.device() && p.dtype == param.dtype()) return p;
  std::int64_t largest = 0;
  for (const Slot& s : slots_)
    if (s.param.device() == param.device() && s.param.dtype() == param.dtype())
      largest = std::max(largest, s.param.numel());
  Pool pool{.device = param.device(), .dtype = param.dtype(), .buffers = {}, .scalar = {}};
  for (int k = 0; k < scratch_count_; ++k)
    pool.buffers.push_back(Tensor::empty({largest}, param.dtype(), param.device()));
  pool.scalar = Tensor::zeros({1}, param.dtype(), param.device());
  pools_.push_back(std::move(pool));
  return pools_.back();
}

void Optimizer::prepare(Slot& slot) {
  const Tensor& p = slot.param;
  if (slot.state.empty())
    for (std::size_t k = 0; k < state_names_.size(); ++k)
      slot.state.push_back(Tensor::zeros(p.shape(), p.dtype(), p.device()));
  if (!slot.scalar.defined() || slot.scalar.device() != p.device() || slot.scalar.dtype() != p.dtype()) {
    Pool& pool = pool_for(p);
    slot.scratch.clear();
    for (const Tensor& b : pool.buffers) slot.scratch.push_back(b.slice(0, p.numel()).reshape(p.shape()));
    slot.scalar = pool.scalar;
  }
  // A model moved or converted after its optimiser was built no longer matches the state.
  for (std::size_t k = 0; k < slot.state.size(); ++k) check_matches(slot.state[k], p, slot.name, ".", state_names_[k]);
}

void Optimizer::step() {
  NoGradGuard no_grad;
  for (Slot& slot : slots_) {
    const ParamGroup& group = groups_[slot.group];
    if (group.lr == 0) continue;
    const Tensor grad = slot.param.grad();
    if (!grad.defined() || slot.param.numel() == 0) continue;
    check_matches(grad, slot.param, slot.name, " ", "gradient");
    check_same_shape(grad, slot.param, "optimiser step");
    prepare(slot);
    update(slot, grad, group);
    ++slot.steps;
  }
}

void Optimizer::zero_grad(bool set_to_none) const {
  for (const Slot& slot : slots_) {
    if (set_to_none) {
      slot.param.zero_grad();
    } else if (const Tensor g = slot.param.grad(); g.defined()) {
      g.fill_(0.0);
    }
  }
}

NamedTensors Optimizer::state_dict() const {
  NamedTensors out;
  for (const Slot& slot : slots_) {
    if (slot.state.empty()) continue;
    for (std::size_t k = 0; k < state_names_.size(); ++k)
      out.emplace_back(slot.name + "." + state_names_[k], slot.state[k]);
    out.emplace_back(slot.name + ".step", Tensor::scalar(static_cast<double>(slot.steps), DType::i64));
  }
  return out;
}

void Optimizer::load_state_dict(const NamedTensors& state) {
  std::map<std::string, const Tensor*> given;
  for (const auto& [name, t] : state) given[name] = &t;
  std::ostringstream problems;
  std::vector<std::pair<Slot*, std::vector<const Tensor*>>> loads;
  for (Slot& slot : slots_) {
    std::vector<const Tensor*> found;
    std::vector<std::string> missing;
    for (const std::string& key : state_keys(slot.name, state_names_)) {
      auto it = given.find(key);
      if (it == given.end()) {
        missing.push_back(key);
        found.push_back(nullptr);
        continue;
      }
      const Tensor& t = *it->second;
      const bool is_step = key.ends_with(".step");
      if (is_step ? t.numel() != 1 : (t.shape() != slot.param.shape() || !is_floating(t.dtype())))
        problems << "\n  " << key << ": " << describe(t) << ", expected "
                 << (is_step ? std::string("one step count") : describe(slot.param));
      found.push_back(&t);
      given.erase(it);
    }
    if (missing.size() == found.size()) continue;  // not named at all: starts afresh
    for (const auto& key : missing) problems << "\n  missing " << key;
    loads.emplace_back(&slot, std::move(found));
  }
  for (const auto& [name, t] : given) problems << "\n  unexpected " << name << " (" << describe(*t) << ")";
  const std::string p = problems.str();
  GLER_CHECK(p.empty(), "optimiser state does not fit this optimiser's parameters:" << p);

  for (Slot& slot : slots_) {
    slot.state.clear();
    slot.steps = 0;
  }
  for (auto& [slot, tensors] : loads) {
    for (std::size_t k = 0; k < state_names_.size(); ++k) {
      Tensor t = Tensor::empty(slot->param.shape(), slot->param.dtype(), slot->param.device());
      t.copy_(*tensors[k]);
      slot->state.push_back(t);
    }
    const double steps = tensors.back()->item();
    GLER_CHECK(steps >= 0 && steps == std::floor(steps), "optimiser state: " << slot->name << ".step is " << steps);
    slot->steps = static_cast<std::int64_t>(steps);
  }
}

}  // namespace gler::train
