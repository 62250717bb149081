#include "core/autograd.h"

#include <unordered_map>
#include <unordered_set>

#include "core/backend.h"

namespace gler {

namespace {
// Per-thread recording switch: a NoGradGuard on one thread never affects another.
thread_local bool t_grad_enabled = true;

void check_versions(const Node& node) {
  for (std::size_t i = 0; i < node.inputs.size(); ++i)
    GLER_CHECK(node.inputs[i].version() == node.input_versions[i],
               "backward: input " << i << " of " << node.name << " (" << describe(node.inputs[i])
                                  << ") was modified in place after the forward pass (version "
                                  << node.input_versions[i] << " -> " << node.inputs[i].version()
                                  << "); its gradient would be wrong");
  GLER_CHECK(node.output_storage->version() == node.output_version,
             "backward: the output of " << node.name << " was modified in place after the forward pass (version "
                                        << node.output_version << " -> " << node.output_storage->version()
                                        << "); its gradient would be wrong");
}

// Adds g into slot (allocating on first use). Gradients are never aliased with forward values.
void accumulate(std::shared_ptr<TensorImpl>& slot, const Tensor& g) {
  if (!slot) {
    Tensor copy = Tensor::empty(g.shape(), g.dtype(), g.device());
    copy.copy_(g);
    slot = copy.impl_ptr();
    return;
  }
  Tensor acc(slot);
  GLER_CHECK(acc.shape() == g.shape(), "gradient shape " << g.shape().str() << " does not match " << acc.shape().str());
  acc.backend().binary(BinaryOp::add, acc, g, acc);
  acc.bump_version();
}
}  // namespace

bool grad_enabled() { return t_grad_enabled; }

NoGradGuard::NoGradGuard() : previous_(t_grad_enabled) { t_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { t_grad_enabled = previous_; }

bool needs_graph(const std::vector<Tensor>& inputs) {
  if (!t_grad_enabled) return false;
  for (const auto& t : inputs)
    if (t.requires_grad()) return true;
  return false;
}

Tensor record(Tensor output, const char* name, std::vector<Tensor> inputs, BackwardFn backward) {
  if (!needs_graph(inputs)) return output;
  auto node = std::make_shared<Node>();
  node->name = name;
  node->inputs = std::move(inputs);
  node->backward = std::move(backward);
  for (const Tensor& t : node->inputs) node->input_versions.push_back(t.version());
  node->output_storage = output.impl().storage;
  node->output_version = output.version();
  output.impl().grad_fn = std::move(node);
  output.impl().requires_grad = true;
  return output;
}

void backward(const Tensor& root, const Tensor& grad) {
  GLER_CHECK(root.requires_grad(), "backward() on a tensor that does not require a gradient");
  Tensor seed = grad;
  if (!seed.defined()) {
    GLER_CHECK(root.numel() == 1, "backward() without a gradient needs a scalar, got shape " << root.shape().str());
    seed = Tensor::full(root.shape(), 1.0, root.dtype(), root.device());
  }
  check_same_shape(root, seed, "backward");
  NoGradGuard no_grad;

  // Reverse topological order of the tensors reachable through grad_fn (iterative DFS).
  std::vector<TensorImpl*> order;
  std::unordered_set<TensorImpl*> visited;
  std::vector<std::pair<TensorImpl*, std::size_t>> stack{{&root.impl(), 0}};
  visited.insert(&root.impl());
  while (!stack.empty()) {
    auto& [impl, next] = stack.back();
    const auto& fn = impl->grad_fn;
    if (fn && next < fn->inputs.size()) {
      TensorImpl* child = &fn->inputs[next++].impl();
      if (child->requires_grad && visited.insert(child).second) stack.push_back({child, 0});
      continue;
    }
    order.push_back(impl);
    stack.pop_back();
  }

  std::unordered_map<TensorImpl*, std::shared_ptr<TensorImpl>> grads;
  grads[&root.impl()] = seed.impl_ptr();
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    TensorImpl* impl = *it;
    auto found = grads.find(impl);
    if (found == grads.end()) continue;
    Tensor g(found->second);
    if (!impl->grad_fn || impl->retains_grad) accumulate(impl->grad, g);
    if (!impl->grad_fn) continue;
    const Node& node = *impl->grad_fn;
    check_versions(node);
    std::vector<Tensor> input_grads = node.backward(g);
    GLER_CHECK(input_grads.size() == node.inputs.size(),
               node.name << " backward returned " << input_grads.size() << " gradients for " << node.inputs.size()
                         << " inputs");
    for (std::size_t i = 0; i < input_grads.size(); ++i) {
      const Tensor& x = node.inputs[i];
      if (!x.requires_grad() || !input_grads[i].defined()) continue;
      check_same_shape(x, input_grads[i], node.name);
      accumulate(grads[&x.impl()], input_grads[i]);
    }
    grads.erase(found);
  }
}

}  // namespace gler
