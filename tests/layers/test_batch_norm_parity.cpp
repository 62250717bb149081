// BatchNorm1d/2d against torch.nn.BatchNorm1d/2d in f32: three training steps (outputs, input and
// parameter gradients, then running_mean/var and num_batches_tracked), then one eval step.
#include <doctest/doctest.h>

#include <functional>

#include "core/autograd.h"
#include "core/init.h"
#include "layers/batch_norm.h"
#include "tests/support/tensors.h"
#include "tests/support/torch_ref.h"

using namespace gler;

namespace {

struct Scenario {
  std::string name;
  std::string torch_ctor;  // constructs `m`
  Shape shape;
  layers::BatchNorm& bn;
  std::function<Tensor(const Tensor&)> forward;
};

constexpr int kTrainSteps = 3;

// Runs the scenario here, saving inputs for PyTorch; returns the outputs by name.
std::vector<std::pair<std::string, Tensor>> run_gler(const Scenario& sc, test::TorchRef& ref, Generator& gen) {
  std::vector<std::pair<std::string, Tensor>> out;
  const std::int64_t channels = sc.shape[1];
  if (sc.bn.weight.defined()) {
    sc.bn.weight.copy_(test::uniform_tensor({channels}, gen, 0.5, 1.5));
    sc.bn.bias.copy_(test::uniform_tensor({channels}, gen));
    ref.put(sc.name + "_w", sc.bn.weight);
    ref.put(sc.name + "_b", sc.bn.bias);
  }
  auto step = [&](const std::string& tag) {
    Tensor x = test::uniform_tensor(sc.shape, gen, -2.0, 3.0).requires_grad_();
    Tensor y = sc.forward(x);
    Tensor r = test::uniform_tensor(y.shape(), gen);
    ref.put(sc.name + "_x" + tag, x);
    ref.put(sc.name + "_r" + tag, r);
    sc.bn.zero_grad();
    backward(y, r);
    out.emplace_back("y" + tag, y);
    out.emplace_back("gx" + tag, x.grad());
    if (sc.bn.weight.defined()) {
      out.emplace_back("gw" + tag, sc.bn.weight.grad());
      out.emplace_back("gb" + tag, sc.bn.bias.grad());
    }
  };
  sc.bn.train();
  for (int i = 0; i < kTrainSteps; ++i) step(std::to_string(i));
  out.emplace_back("running_mean", sc.bn.running_mean.clone());
  out.emplace_back("running_var", sc.bn.running_var.clone());
  out.emplace_back("num_batches_tracked", sc.bn.num_batches_tracked.clone());
  sc.bn.eval();
  step("eval");
  return out;
}

const char* kScript = R"PY(
def run(name, m, affine):
    if affine:
        with torch.no_grad():
            m.weight.copy_(load(name + '_w'))
            m.bias.copy_(load(name + '_b'))
    def step(tag):
        x = load(name + '_x' + tag).requires_grad_()
        m.zero_grad()
        y = m(x)
        y.backward(load(name + '_r' + tag))
        save(name + '_y' + tag, y)
        save(name + '_gx' + tag, x.grad)
        if affine:
            save(name + '_gw' + tag, m.weight.grad)
            save(name + '_gb' + tag, m.bias.grad)
    m.train()
    for i in range(3):
        step(str(i))
    save(name + '_running_mean', m.running_mean)
    save(name + '_running_var', m.running_var)
    save(name + '_num_batches_tracked', m.num_batches_tracked)
    m.eval()
    step('eval')
)PY";

}  // namespace

TEST_CASE("BatchNorm1d/2d match PyTorch in train and eval mode, including running statistics") {
  layers::BatchNorm2d bn2d(3);
  layers::BatchNorm2d bn2d_plain(2, 1e-3, 0.3, false);
  layers::BatchNorm1d bn1d(4, 1e-5, 0.2);
  layers::BatchNorm1d bn1d_ncl(3, 1e-4, 0.1, false);
  layers::BatchNorm1d bn1d_small(5);
  const std::vector<Scenario> scenarios = {
      {"bn2d", "torch.nn.BatchNorm2d(3)", {2, 3, 5, 7}, bn2d, [&](const Tensor& x) { return bn2d.forward(x); }},
      {"bn2d_plain", "torch.nn.BatchNorm2d(2, eps=1e-3, momentum=0.3, affine=False)", {1, 2, 3, 3}, bn2d_plain,
       [&](const Tensor& x) { return bn2d_plain.forward(x); }},
      {"bn1d", "torch.nn.BatchNorm1d(4, momentum=0.2)", {6, 4}, bn1d, [&](const Tensor& x) { return bn1d.forward(x); }},
      {"bn1d_ncl", "torch.nn.BatchNorm1d(3, eps=1e-4, affine=False)", {2, 3, 5}, bn1d_ncl,
       [&](const Tensor& x) { return bn1d_ncl.forward(x); }},
      {"bn1d_small", "torch.nn.BatchNorm1d(5)", {3, 5}, bn1d_small, [&](const Tensor& x) { return bn1d_small.forward(x); }},
  };
  test::TorchRef ref;
  Generator gen(31);
  std::vector<std::vector<std::pair<std::string, Tensor>>> results;
  std::string script = kScript;
  for (const auto& sc : scenarios) {
    results.push_back(run_gler(sc, ref, gen));
    script += "run('" + sc.name + "', " + sc.torch_ctor + ", " + (sc.bn.weight.defined() ? "True" : "False") + ")\n";
  }
  ref.run(script);
  for (std::size_t s = 0; s < scenarios.size(); ++s) {
    for (const auto& [what, mine] : results[s]) {
      const std::string key = scenarios[s].name + "_" + what;
      CAPTURE(key);
      const Tensor theirs = ref.get(key);
      CHECK(theirs.dtype() == mine.dtype());
      CHECK(theirs.shape() == mine.shape());
      if (mine.dtype() == DType::i64)
        CHECK(mine.item() == theirs.item());  // num_batches_tracked, a 0-D buffer
      else
        CHECK(test::max_rel_diff(mine, theirs) < 1e-5);
    }
  }
}
