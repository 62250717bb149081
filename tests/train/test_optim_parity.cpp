// SGD and Adam against torch.optim (torch 1.13, run by /usr/bin/python3) on the same parameters
// and gradients, in f64 and f32, over 5 steps: every SGD option combination (momentum, dampening,
// Nesterov, weight decay) and Adam with and without weight decay and amsgrad, in torch 1.13's
// formula and in torch 0.4's (the seed's; written here in torch ops from 0.4's adam.py).
// Three groups: (a, b, frozen f) and (c) with their own lr and weight decay, and (e) at lr 0;
// b has no gradient at step 2 (skipped by both), f never has one (requires_grad false); g is large
// enough for both sides' multi-threaded and vectorised loops. After every step every parameter
// must equal PyTorch's bit for bit: each update is PyTorch's sequence of tensor ops, rounded as
// PyTorch rounds them (its add-with-alpha and addcmul are fused multiply-adds: so are ours).
#include <doctest/doctest.h>

#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/init.h"
#include "tests/support/tensors.h"
#include "tests/support/torch_ref.h"
#include "tests/train/set_grad.h"
#include "tests/support/python_modules.h"
#include "train/optim/adam.h"
#include "train/optim/sgd.h"

using namespace gler;
using train::ParamGroup;

namespace {

constexpr int kSteps = 5;
const std::vector<std::pair<std::string, Shape>> kParams{{"a", {3, 4}}, {"b", {5}}, {"f", {4}},
                                                         {"c", {2, 3}}, {"e", {3}}, {"g", {257, 131}}};

bool has_grad(const std::string& name, int step) { return name != "f" && !(name == "b" && step == 2); }

struct Config {
  std::string tag;
  bool weight_decay;
  std::string torch_make;  // Python: an optimiser over groups(P, wd)
  std::function<std::unique_ptr<train::Optimizer>(std::vector<ParamGroup>)> make;
};

std::vector<ParamGroup> groups_of(std::map<std::string, Tensor>& p, bool wd) {
  return {ParamGroup{{{"a", p["a"]}, {"b", p["b"]}, {"f", p["f"]}, {"g", p["g"]}}, 0.05, wd ? 0.01 : 0.0},
          ParamGroup{{{"c", p["c"]}}, 0.2, wd ? 0.03 : 0.0}, ParamGroup{{{"e", p["e"]}}, 0.0, 0.0}};
}

std::vector<Config> configs() {
  std::vector<Config> out;
  struct SgdCase {
    double momentum, dampening;
    bool nesterov;
  };
  for (const SgdCase s :
       {SgdCase{0, 0, false}, SgdCase{0.9, 0, false}, SgdCase{0.9, 0.25, false}, SgdCase{0.9, 0, true}})
    for (bool wd : {false, true}) {
      char tag[96];
      std::snprintf(tag, sizeof tag, "sgd_m%g_d%g_n%d_wd%d", s.momentum, s.dampening, s.nesterov, wd);
      char py[160];
      std::snprintf(py, sizeof py, "torch.optim.SGD(groups(P, %d), lr=0.1, momentum=%g, dampening=%g, nesterov=%s)", wd,
                    s.momentum, s.dampening, s.nesterov ? "True" : "False");
      const train::SgdOptions o{.momentum = s.momentum, .dampening = s.dampening, .nesterov = s.nesterov};
      out.push_back(
          {tag, wd, py, [o](std::vector<ParamGroup> g) { return std::make_unique<train::Sgd>(std::move(g), o); }});
    }
  for (auto formula : {train::AdamFormula::torch_1_13, train::AdamFormula::torch_0_4})
    for (bool amsgrad : {false, true})
      for (bool wd : {false, true}) {
        const bool v13 = formula == train::AdamFormula::torch_1_13;
        char tag[96];
        std::snprintf(tag, sizeof tag, "adam%s_ams%d_wd%d", v13 ? "113" : "04", amsgrad, wd);
        char py[160];
        std::snprintf(py, sizeof py, "%s(groups(P, %d), betas=(0.8, 0.95), eps=1e-6, amsgrad=%s)",
                      v13 ? "torch.optim.Adam" : "Adam04", wd, amsgrad ? "True" : "False");
        const train::AdamOptions o{.beta1 = 0.8, .beta2 = 0.95, .eps = 1e-6, .amsgrad = amsgrad, .formula = formula};
        out.push_back(
            {tag, wd, py, [o](std::vector<ParamGroup> g) { return std::make_unique<train::Adam>(std::move(g), o); }});
      }
  return out;
}

const std::string kScript = R"(
import math
NAMES = ['a', 'b', 'f', 'c', 'e', 'g']

def groups(P, wd):
    return [{'params': [P['a'], P['b'], P['f'], P['g']], 'lr': 0.05, 'weight_decay': 0.01 * wd},
            {'params': [P['c']], 'lr': 0.2, 'weight_decay': 0.03 * wd},
            {'params': [P['e']], 'lr': 0.0}]

class Adam04:
    """torch 0.4's Adam.step (eps added to sqrt(v) before bias correction), in torch ops."""
    def __init__(self, groups, betas, eps, amsgrad):
        self.param_groups, (self.b1, self.b2), self.eps, self.amsgrad, self.state = groups, betas, eps, amsgrad, {}

    @torch.no_grad()
    def step(self):
        for g in self.param_groups:
            for p in g['params']:
                if p.grad is None:
                    continue
                st = self.state.setdefault(p, {'step': 0, 'm': torch.zeros_like(p), 'v': torch.zeros_like(p),
                                               'vmax': torch.zeros_like(p)})
                st['step'] += 1
                grad = p.grad
                if g.get('weight_decay', 0) != 0:
                    grad = grad.add(p, alpha=g['weight_decay'])
                st['m'].mul_(self.b1).add_(grad, alpha=1 - self.b1)
                st['v'].mul_(self.b2).addcmul_(grad, grad, value=1 - self.b2)
                if self.amsgrad:
                    torch.maximum(st['vmax'], st['v'], out=st['vmax'])
                    denom = st['vmax'].sqrt().add_(self.eps)
                else:
                    denom = st['v'].sqrt().add_(self.eps)
                bc1 = 1 - self.b1 ** st['step']
                bc2 = 1 - self.b2 ** st['step']
                p.addcdiv_(st['m'], denom, value=-(g['lr'] * math.sqrt(bc2) / bc1))

def run(tag, dt, make):
    P = {n: load(dt + '.init.' + n).requires_grad_(n != 'f') for n in NAMES}
    opt = make(P)
    for k in range()" + std::to_string(kSteps) +
                            R"():
        for n in NAMES:
            P[n].grad = load('%s.grad%d.%s' % (dt, k, n)) if n != 'f' and not (n == 'b' and k == 2) else None
        opt.step()
        for n in NAMES:
            save('%s.%s.step%d.%s' % (tag, dt, k, n), P[n])
)";

}  // namespace

TEST_CASE(
    "SGD and Adam match torch.optim step by step, in f64 and f32, with groups, frozen and gradient-less parameters") {
  test::require_torch();
  test::TorchRef ref;
  Generator gen(16);
  std::map<DType, std::map<std::string, Tensor>> init;
  std::map<DType, std::vector<std::map<std::string, Tensor>>> grads;
  for (DType dt : {DType::f64, DType::f32}) {
    const std::string d(dtype_name(dt));
    for (const auto& [name, shape] : kParams) {
      init[dt][name] = test::uniform_tensor(shape, gen).to(dt);
      ref.put(d + ".init." + name, init[dt][name]);
    }
    grads[dt].resize(kSteps);
    for (int k = 0; k < kSteps; ++k)
      for (const auto& [name, shape] : kParams) {
        grads[dt][k][name] = test::uniform_tensor(shape, gen, -2, 2).to(dt);
        ref.put(d + ".grad" + std::to_string(k) + "." + name, grads[dt][k][name]);
      }
  }
  std::string script = kScript;
  const auto all = configs();
  for (const Config& c : all)
    for (const char* d : {"f64", "f32"})
      script += "run('" + c.tag + "', '" + d + "', lambda P: " + c.torch_make + ")\n";
  ref.run(script);

  for (const Config& c : all)
    for (DType dt : {DType::f64, DType::f32}) {
      const std::string d(dtype_name(dt));
      CAPTURE(c.tag);
      CAPTURE(d);
      std::map<std::string, Tensor> p;
      for (const auto& [name, t] : init[dt]) {
        p[name] = t.clone();
        p[name].requires_grad_(name != "f");
      }
      auto opt = c.make(groups_of(p, c.weight_decay));
      double worst = 0;
      std::int64_t exact = 0, total = 0;
      for (int k = 0; k < kSteps; ++k) {
        for (const auto& [name, shape] : kParams)
          if (name != "f") test::set_grad(p[name], has_grad(name, k) ? grads[dt][k][name] : Tensor());
        opt->step();
        for (const auto& [name, shape] : kParams) {
          const Tensor theirs = ref.get(c.tag + "." + d + ".step" + std::to_string(k) + "." + name);
          const double diff = test::max_rel_diff(p[name], theirs);
          worst = std::max(worst, diff);
          const auto a = p[name].to_vector<double>(), b = theirs.to_vector<double>();
          for (std::size_t i = 0; i < a.size(); ++i) exact += a[i] == b[i];
          total += static_cast<std::int64_t>(a.size());
        }
      }
      CHECK(exact == total);
      CHECK(worst == 0);
      // The frozen and lr-0 parameters never move.
      CHECK(test::max_abs_diff(p["f"], init[dt]["f"]) == 0);
      CHECK(test::max_abs_diff(p["e"], init[dt]["e"]) == 0);
      std::printf("%-22s %s  max rel diff %.2e  bit-exact %lld/%lld\n", c.tag.c_str(), d.c_str(), worst,
                  static_cast<long long>(exact), static_cast<long long>(total));
    }
}
