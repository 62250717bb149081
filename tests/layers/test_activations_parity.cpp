// PReLU (per-channel and shared slope, 2-D and 4-D inputs) and the ReLU module against PyTorch
// in f32: outputs, input gradients and slope gradients.
#include <doctest/doctest.h>

#include "core/autograd.h"
#include "core/init.h"
#include "layers/activations.h"
#include "tests/support/torch_ref.h"

using namespace gler;

TEST_CASE("PReLU and ReLU match PyTorch in f32") {
  struct Case {
    std::string name;
    Shape shape;
    std::int64_t slopes;
  };
  const std::vector<Case> cases = {{"nchw", {2, 3, 4, 5}, 3}, {"shared", {2, 3, 4, 5}, 1}, {"nc", {6, 128}, 128}};
  test::TorchRef ref;
  Generator gen(8);
  std::vector<std::vector<Tensor>> mine;
  std::string script;
  for (const auto& c : cases) {
    layers::PReLU prelu(c.slopes);
    CHECK(prelu.weight.to_vector<float>() == std::vector<float>(static_cast<std::size_t>(c.slopes), 0.25f));
    uniform_(prelu.weight, -0.5, 0.5, gen);
    Tensor x = Tensor::empty(c.shape);
    uniform_(x, -1, 1, gen);
    x.requires_grad_();
    Tensor r = Tensor::empty(c.shape);
    uniform_(r, -1, 1, gen);
    Tensor y = prelu.forward(x);
    backward(y, r);
    mine.push_back({y, x.grad(), prelu.weight.grad()});
    ref.put(c.name + "_x", x);
    ref.put(c.name + "_w", prelu.weight);
    ref.put(c.name + "_r", r);
    script += "run('" + c.name + "', " + std::to_string(c.slopes) + ")\n";
  }
  layers::ReLU relu;
  Tensor rx = Tensor::empty({4, 7});
  uniform_(rx, -1, 1, gen);
  ref.put("relu_x", rx);
  ref.run(R"PY(
def run(name, slopes):
    m = torch.nn.PReLU(slopes)
    with torch.no_grad():
        m.weight.copy_(load(name + '_w'))
    x = load(name + '_x').requires_grad_()
    y = m(x)
    y.backward(load(name + '_r'))
    save(name + '_y', y)
    save(name + '_gx', x.grad)
    save(name + '_gw', m.weight.grad)
)PY" + script + "save('relu_y', torch.nn.ReLU()(load('relu_x')))\n");
  for (std::size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(cases[i].name);
    CHECK(test::max_rel_diff(mine[i][0], ref.get(cases[i].name + "_y")) < 1e-5);
    CHECK(test::max_rel_diff(mine[i][1], ref.get(cases[i].name + "_gx")) < 1e-5);
    CHECK(test::max_rel_diff(mine[i][2], ref.get(cases[i].name + "_gw")) < 1e-5);
  }
  CHECK(test::max_rel_diff(relu.forward(rx), ref.get("relu_y")) < 1e-5);
}
