// The losses against PyTorch in f32: cross_entropy against F.cross_entropy; LSoftmaxLinear against
// amirhfarzaneh/lsoftmax-pytorch's module and AngleLinear/AngleLoss against clcarwin/
// sphereface_pytorch's, both re-implemented below from their published code. Outputs, losses and
// the gradients of inputs and weights agree within 1e-5 relative (test::max_rel_diff).
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <numbers>
#include <set>

#include "core/autograd.h"
#include "core/init.h"
#include "core/ops.h"
#include "layers/angle_softmax.h"
#include "layers/cross_entropy.h"
#include "layers/lsoftmax.h"
#include "tests/support/tensors.h"
#include "tests/support/torch_ref.h"

using namespace gler;

namespace {

const char* kReference = R"PY(
import math
import torch.nn.functional as F

class LSoftmaxLinear(torch.nn.Module):
    """amirhfarzaneh/lsoftmax-pytorch (weight given instead of drawn, no device argument)."""
    def __init__(self, weight, margin, beta, beta_min=0.0, scale=0.99):
        super().__init__()
        self.margin, self.beta, self.beta_min, self.scale = margin, beta, beta_min, scale
        self.weight = torch.nn.Parameter(weight.clone())
        self.divisor = math.pi / margin
        self.C_m_2n = torch.Tensor([math.comb(margin, k) for k in range(0, margin + 1, 2)])
        self.cos_powers = torch.Tensor(list(range(margin, -1, -2)))
        self.sin2_powers = torch.Tensor(list(range(len(self.cos_powers))))
        self.signs = torch.ones(margin // 2 + 1)
        self.signs[1::2] = -1

    def calculate_cos_m_theta(self, cos_theta):
        sin2_theta = 1 - cos_theta ** 2
        cos_terms = cos_theta.unsqueeze(1) ** self.cos_powers.unsqueeze(0)
        sin2_terms = sin2_theta.unsqueeze(1) ** self.sin2_powers.unsqueeze(0)
        return (self.signs.unsqueeze(0) * self.C_m_2n.unsqueeze(0) * cos_terms * sin2_terms).sum(1)

    def find_k(self, cos):
        eps = 1e-7
        cos = torch.clamp(cos, -1 + eps, 1 - eps)
        return (cos.acos() / self.divisor).floor().detach()

    def forward(self, input, target=None):
        if not self.training:
            return input.mm(self.weight)
        x, w = input, self.weight
        beta = max(self.beta, self.beta_min)
        logit = x.mm(w)
        indexes = torch.arange(logit.size(0))
        logit_target = logit[indexes, target]
        w_target_norm = w[:, target].norm(p=2, dim=0)
        x_norm = x.norm(p=2, dim=1)
        cos_theta_target = logit_target / (w_target_norm * x_norm + 1e-10)
        cos_m_theta_target = self.calculate_cos_m_theta(cos_theta_target)
        k = self.find_k(cos_theta_target)
        logit_target_updated = w_target_norm * x_norm * (((-1) ** k * cos_m_theta_target) - 2 * k)
        logit_target_updated_beta = (logit_target_updated + beta * logit[indexes, target]) / (1 + beta)
        logit[indexes, target] = logit_target_updated_beta
        self.beta *= self.scale
        return logit

class AngleLinear(torch.nn.Module):
    """clcarwin/sphereface_pytorch net_sphere.py, phiflag=True (weight given)."""
    def __init__(self, weight, m=4):
        super().__init__()
        self.weight = torch.nn.Parameter(weight.clone())
        self.m = m
        self.mlambda = [lambda x: x**0, lambda x: x**1, lambda x: 2*x**2-1, lambda x: 4*x**3-3*x,
                        lambda x: 8*x**4-8*x**2+1, lambda x: 16*x**5-20*x**3+5*x]

    def forward(self, input):
        x, w = input, self.weight
        ww = w.renorm(2, 1, 1e-5).mul(1e5)
        xlen = x.pow(2).sum(1).pow(0.5)
        wlen = ww.pow(2).sum(0).pow(0.5)
        cos_theta = x.mm(ww)
        cos_theta = cos_theta / xlen.view(-1, 1) / wlen.view(1, -1)
        cos_theta = cos_theta.clamp(-1, 1)
        cos_m_theta = self.mlambda[self.m](cos_theta)
        theta = cos_theta.detach().acos()
        k = (self.m * theta / 3.14159265).floor()
        n_one = k * 0.0 - 1
        phi_theta = (n_one ** k) * cos_m_theta - 2 * k
        return cos_theta * xlen.view(-1, 1), phi_theta * xlen.view(-1, 1)

class AngleLoss(torch.nn.Module):
    def __init__(self, gamma=0):
        super().__init__()
        self.gamma, self.it, self.LambdaMin, self.LambdaMax, self.lamb = gamma, 0, 5.0, 1500.0, 1500.0

    def forward(self, input, target):
        self.it += 1
        cos_theta, phi_theta = input
        target = target.view(-1, 1)
        index = cos_theta.detach() * 0.0
        index.scatter_(1, target, 1)
        index = index.bool()
        self.lamb = max(self.LambdaMin, self.LambdaMax / (1 + 0.1 * self.it))
        output = cos_theta * 1.0
        output[index] -= cos_theta[index] * (1.0 + 0) / (1 + self.lamb)
        output[index] += phi_theta[index] * (1.0 + 0) / (1 + self.lamb)
        logpt = F.log_softmax(output, 1).gather(1, target).view(-1)
        pt = logpt.detach().exp()
        return (-1 * logpt * (1 - pt) ** self.gamma).mean()

def lsoftmax_case(name, margin, beta, forwards=1, mode='margin'):
    x, w, y, r = load(name + '_x').requires_grad_(), load(name + '_w'), load(name + '_y'), load(name + '_r')
    fc = LSoftmaxLinear(w, margin, beta)
    if mode == 'eval':
        fc.eval()
    for _ in range(forwards):
        logits = fc(x, y) if mode == 'margin' else fc(x)
    loss = F.cross_entropy(logits, y)
    (loss + (logits * r).sum()).backward()
    for key, value in [('logits', logits), ('loss', loss), ('gx', x.grad), ('gw', fc.weight.grad)]:
        save(name + '_' + key, value)

def angle_case(name, m, iteration, gamma):
    x, w, y, r = load(name + '_x').requires_grad_(), load(name + '_w'), load(name + '_y'), load(name + '_r')
    fc, crit = AngleLinear(w, m), AngleLoss(gamma)
    crit.it = iteration
    cos, phi = fc(x)
    loss = crit((cos, phi), y)
    (loss + (phi * r).sum()).backward()
    for key, value in [('cos', cos), ('phi', phi), ('loss', loss), ('gx', x.grad), ('gw', fc.weight.grad)]:
        save(name + '_' + key, value)

logits = load('ce_logits').requires_grad_()
loss = F.cross_entropy(logits, load('ce_y'))
loss.backward()
save('ce_loss', loss)
save('ce_glogits', logits.grad)
)PY";

Tensor labels_of(const std::vector<std::int64_t>& v) {
  return Tensor::from_vector<std::int64_t>(v, {static_cast<std::int64_t>(v.size())});
}

// x_i at angle θ_i = (i + 0.3)π/B from its target column W[:, y_i], off in a random direction, with
// a random norm: the targets spread over [0, π], clear of the k boundaries, so that every branch
// of ψ is exercised (the tests check which were).
Tensor spread_inputs(const Tensor& w, const std::vector<std::int64_t>& y, Generator& gen) {
  const std::size_t in = static_cast<std::size_t>(w.size(0)), out = static_cast<std::size_t>(w.size(1));
  const std::size_t batch = y.size();
  const std::vector<double> wv = w.to_vector<double>();
  const std::vector<double> noise =
      test::uniform_tensor({static_cast<std::int64_t>(batch), static_cast<std::int64_t>(in)}, gen, -1, 1).to_vector<double>();
  const std::vector<double> norms = test::uniform_tensor({static_cast<std::int64_t>(batch)}, gen, 0.5, 2.0).to_vector<double>();
  std::vector<float> x;
  for (std::size_t i = 0; i < batch; ++i) {
    std::vector<double> c(in), u(in);
    double cc = 0, cu = 0, uu = 0;
    for (std::size_t d = 0; d < in; ++d) {
      c[d] = wv[d * out + static_cast<std::size_t>(y[i])];
      cc += c[d] * c[d];
    }
    for (std::size_t d = 0; d < in; ++d) {
      c[d] /= std::sqrt(cc);
      cu += c[d] * noise[i * in + d];
    }
    for (std::size_t d = 0; d < in; ++d) {
      u[d] = noise[i * in + d] - cu * c[d];
      uu += u[d] * u[d];
    }
    const double theta = (static_cast<double>(i) + 0.3) * std::numbers::pi / static_cast<double>(batch);
    for (std::size_t d = 0; d < in; ++d)
      x.push_back(static_cast<float>(norms[i] * (std::cos(theta) * c[d] + std::sin(theta) * u[d] / std::sqrt(uu))));
  }
  return Tensor::from_vector<float>(x, {static_cast<std::int64_t>(batch), static_cast<std::int64_t>(in)});
}

// k = ⌊θ_y·m/π⌋ of each sample, in f64 on the host.
std::set<int> target_ks(const Tensor& x, const Tensor& w, const std::vector<std::int64_t>& y, int m) {
  const std::int64_t in = w.size(0), out = w.size(1);
  const std::vector<double> xv = x.to_vector<double>(), wv = w.to_vector<double>();
  std::set<int> ks;
  for (std::size_t i = 0; i < y.size(); ++i) {
    double dot = 0, xx = 0, ww = 0;
    for (std::int64_t d = 0; d < in; ++d) {
      const double a = xv[i * static_cast<std::size_t>(in) + static_cast<std::size_t>(d)];
      const double b = wv[static_cast<std::size_t>(d * out + y[i])];
      dot += a * b;
      xx += a * a;
      ww += b * b;
    }
    ks.insert(static_cast<int>(std::floor(std::acos(dot / std::sqrt(xx * ww)) * m / std::numbers::pi)));
  }
  return ks;
}

class LossParity {
 public:
  LossParity() {
    Generator gen(77);
    std::string calls;

    const Tensor logits = test::uniform_tensor({6, 5}, gen, -3, 3).requires_grad_();
    const Tensor ce_y = labels_of({4, 0, 2, 2, 1, 3});
    ref_.put("ce_logits", logits);
    ref_.put("ce_y", ce_y);
    backward(layers::cross_entropy(logits, ce_y));
    keep("ce_loss", layers::cross_entropy(logits, ce_y));
    keep("ce_glogits", logits.grad());

    for (int m : {2, 3, 4}) lsoftmax("ls_m" + std::to_string(m), m, {}, 1, "margin", gen, calls);
    layers::LSoftmaxOptions annealed;
    annealed.beta = 100.0;
    annealed.beta_scale = 0.99;
    lsoftmax("ls_beta", 4, annealed, 2, "margin", gen, calls);
    lsoftmax("ls_eval", 4, {}, 1, "eval", gen, calls);
    layers::LSoftmaxOptions seed;
    seed.seed_compatible = true;
    lsoftmax("ls_seed", 4, seed, 1, "seed", gen, calls);

    angle("as_it1", 4, 0, 0.0, gen, calls);
    angle("as_it10", 4, 9, 0.0, gen, calls);
    angle("as_it5000", 4, 4999, 0.0, gen, calls);
    angle("as_gamma2", 4, 19, 2.0, gen, calls);
    angle("as_m3", 3, 0, 0.0, gen, calls);

    ref_.run(std::string(kReference) + calls);
  }

  // `floor`: entries below floor·scale are measured against that (see test::max_rel_diff).
  void expect_match(const std::string& name, double floor = 1e-2) const {
    CAPTURE(name);
    const Tensor mine = gler_.at(name), theirs = ref_.get(name);
    REQUIRE(mine.numel() == theirs.numel());
    CHECK(test::max_rel_diff(mine, theirs, floor) < 1e-5);
  }

  std::map<std::string, std::set<int>> ks;  // k values the targets covered, per case

 private:
  void keep(const std::string& name, const Tensor& t) { gler_[name] = t.detach(); }

  void lsoftmax(const std::string& name, int m, layers::LSoftmaxOptions opt, int forwards, const std::string& mode,
                Generator& gen, std::string& calls) {
    const std::vector<std::int64_t> yv = {0, 4, 1, 3, 2, 2, 4, 0, 1, 3};
    const Tensor y = labels_of(yv);
    opt.margin = m;
    Generator init(1);
    layers::LSoftmaxLinear fc(6, 5, init, opt);
    fc.weight.copy_(test::uniform_tensor({6, 5}, gen, -1, 1));
    const Tensor x = spread_inputs(fc.weight, yv, gen).requires_grad_();
    const Tensor r = test::uniform_tensor({10, 5}, gen, -1, 1);
    ks[name] = target_ks(x, fc.weight, yv, m);
    if (mode == "eval") fc.eval();
    Tensor logits;
    for (int i = 0; i < forwards; ++i) logits = fc.forward(x, y);
    const Tensor loss = layers::cross_entropy(logits, y);
    backward(ops::add(loss, ops::sum_all(ops::mul(logits, r))));
    keep(name + "_logits", logits);
    keep(name + "_loss", loss);
    keep(name + "_gx", x.grad());
    keep(name + "_gw", fc.weight.grad());
    ref_.put(name + "_x", x);
    ref_.put(name + "_w", fc.weight);
    ref_.put(name + "_y", y);
    ref_.put(name + "_r", r);
    // The seed-compatible layer must match the reference's plain (eval) path.
    const std::string py_mode = mode == "margin" ? "margin" : "eval";
    calls += "lsoftmax_case('" + name + "', " + std::to_string(m) + ", " + std::to_string(opt.beta) + ", " +
             std::to_string(forwards) + ", '" + py_mode + "')\n";
  }

  void angle(const std::string& name, int m, std::int64_t iteration, double gamma, Generator& gen, std::string& calls) {
    const std::vector<std::int64_t> yv = {3, 0, 1, 4, 2, 2, 0, 3, 1, 4};
    const Tensor y = labels_of(yv);
    Generator init(2);
    layers::AngleLinear fc(6, 5, init, m);
    const Tensor x = spread_inputs(fc.weight, yv, gen).requires_grad_();
    const Tensor r = test::uniform_tensor({10, 5}, gen, -1, 1);
    ks[name] = target_ks(x, fc.weight, yv, m);
    layers::AngleLoss crit(gamma);
    crit.set_iteration(iteration);
    const layers::AngleOutputs out = fc.forward(x);
    const Tensor loss = crit.forward(out, y);
    backward(ops::add(loss, ops::sum_all(ops::mul(out.phi_theta, r))));
    keep(name + "_cos", out.cos_theta);
    keep(name + "_phi", out.phi_theta);
    keep(name + "_loss", loss);
    keep(name + "_gx", x.grad());
    keep(name + "_gw", fc.weight.grad());
    ref_.put(name + "_x", x);
    ref_.put(name + "_w", fc.weight);
    ref_.put(name + "_y", y);
    ref_.put(name + "_r", r);
    calls += "angle_case('" + name + "', " + std::to_string(m) + ", " + std::to_string(iteration) + ", " +
             std::to_string(gamma) + ")\n";
  }

  test::TorchRef ref_;
  std::map<std::string, Tensor> gler_;
};

// The margin gradients hold small entries that are differences of terms of the tensor's scale
// (cos(mθ) as a polynomial, ψ's chain rule): both f32 implementations carry ~1e-7·scale of rounding
// there, and an f64 evaluation of the reference is as far from PyTorch's f32 result as from ours.
constexpr double kMarginFloor = 0.1;

const LossParity& parity() {
  static const LossParity p;
  return p;
}

}  // namespace

TEST_CASE("cross_entropy matches F.cross_entropy") {
  parity().expect_match("ce_loss");
  parity().expect_match("ce_glogits");
}

TEST_CASE("LSoftmaxLinear matches the reference for margins 2, 3, 4 and annealed beta") {
  for (const char* c : {"ls_m2", "ls_m3", "ls_m4", "ls_beta"}) {
    const std::string name = c;
    for (const char* part : {"_logits", "_loss", "_gx", "_gw"}) parity().expect_match(name + part, kMarginFloor);
  }
  // The inputs put targets in every branch of ψ, so each branch was compared.
  CHECK(parity().ks.at("ls_m4") == std::set<int>{0, 1, 2, 3});
  CHECK(parity().ks.at("ls_m3") == std::set<int>{0, 1, 2});
}

TEST_CASE("LSoftmaxLinear eval and seed-compatible training match the reference's plain path") {
  for (const char* c : {"ls_eval", "ls_seed"}) {
    const std::string name = c;
    for (const char* part : {"_logits", "_loss", "_gx", "_gw"}) parity().expect_match(name + part);
  }
}

TEST_CASE("AngleLinear and AngleLoss match sphereface_pytorch across the lambda schedule") {
  for (const char* c : {"as_it1", "as_it10", "as_it5000", "as_gamma2", "as_m3"}) {
    const std::string name = c;
    for (const char* part : {"_cos", "_phi", "_loss", "_gx", "_gw"}) parity().expect_match(name + part, kMarginFloor);
  }
  CHECK(parity().ks.at("as_it1") == std::set<int>{0, 1, 2, 3});
}
