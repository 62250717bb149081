#include "core/module.h"

#include <map>
#include <sstream>

namespace gler {

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

Tensor Module::register_parameter(const std::string& name, Tensor t) {
  t.requires_grad_(true);
  params_.emplace_back(name, t);
  return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  buffers_.emplace_back(name, t);
  return t;
}

void Module::register_module(const std::string& name, Module& child) { children_.emplace_back(name, &child); }

void Module::collect(const std::string& prefix, bool params, bool buffers, NamedTensors& out) const {
  if (params)
    for (const auto& [n, t] : params_) out.emplace_back(prefix + n, t);
  if (buffers)
    for (const auto& [n, t] : buffers_) out.emplace_back(prefix + n, t);
  for (const auto& [n, child] : children_) child->collect(prefix + n + ".", params, buffers, out);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", true, false, out);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect("", false, true, out);
  return out;
}

NamedTensors Module::state_dict() const {
  NamedTensors out;
  collect("", true, true, out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [n, t] : named_parameters()) out.push_back(t);
  return out;
}

void Module::zero_grad() const {
  for (auto& t : parameters()) t.zero_grad();
}

void Module::load_state_dict(const NamedTensors& values, bool strict) const {
  std::map<std::string, const Tensor*> given;
  for (const auto& [n, t] : values) given[n] = &t;
  std::ostringstream problems;
  int count = 0;
  for (const auto& [name, dst] : state_dict()) {
    auto it = given.find(name);
    if (it == given.end()) {
      if (strict) problems << (count++ ? "; " : "") << "missing " << name;
      continue;
    }
    if (it->second->shape() != dst.shape()) {
      problems << (count++ ? "; " : "") << name << " has shape " << it->second->shape().str() << ", expected "
               << dst.shape().str();
    } else {
      dst.copy_(*it->second);
    }
    given.erase(it);
  }
  if (strict)
    for (const auto& [n, t] : given) problems << (count++ ? "; " : "") << "unexpected " << n;
  GLER_CHECK(count == 0, "state dict does not fit the model (" << count << " problems): " << problems.str());
}

namespace {
void replace_storage(const Tensor& t, const Tensor& converted) {
  TensorImpl& impl = t.impl();
  impl.storage = converted.impl().storage;
  impl.offset = converted.impl().offset;
  impl.dtype = converted.dtype();
  impl.grad.reset();
}
}  // namespace

void Module::to(Device device) const {
  for (const auto& [n, t] : state_dict())
    if (t.device() != device) replace_storage(t, t.detach().to(device));
}

void Module::to(DType dtype) const {
  for (const auto& [n, t] : state_dict())
    if (is_floating(t.dtype()) && t.dtype() != dtype) replace_storage(t, t.detach().to(dtype));
}

}  // namespace gler
