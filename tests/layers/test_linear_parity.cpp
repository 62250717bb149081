// Linear against torch.nn.Linear in f32 (same weights): outputs, input, weight and bias gradients,
// for 2-D and 3-D inputs, with and without bias; plus the shape error and the default init bound.
#include <doctest/doctest.h>

#include <cmath>

#include "core/autograd.h"
#include "core/init.h"
#include "layers/linear.h"
#include "tests/support/torch_ref.h"

using namespace gler;

TEST_CASE("Linear matches PyTorch in f32") {
  struct Case {
    std::string name;
    Shape x_shape;
    std::int64_t in, out;
    bool bias;
  };
  const std::vector<Case> cases = {{"batch", {5, 7}, 7, 3, true},
                                   {"faces", {2, 15, 256}, 256, 64, true},
                                   {"no_bias", {4, 512}, 512, 3, false}};
  test::TorchRef ref;
  Generator gen(11);
  std::vector<std::vector<Tensor>> mine;
  std::string script;
  for (const auto& c : cases) {
    layers::Linear lin(c.in, c.out, c.bias, gen);
    Tensor x = Tensor::empty(c.x_shape);
    uniform_(x, -1, 1, gen);
    x.requires_grad_();
    Tensor y = lin.forward(x);
    Tensor r = Tensor::empty(y.shape());
    uniform_(r, -1, 1, gen);
    backward(y, r);
    mine.push_back({y, x.grad(), lin.weight.grad(), c.bias ? lin.bias.grad() : Tensor()});
    ref.put(c.name + "_x", x);
    ref.put(c.name + "_w", lin.weight);
    if (c.bias) ref.put(c.name + "_b", lin.bias);
    ref.put(c.name + "_r", r);
    script += "run('" + c.name + "', " + std::to_string(c.in) + ", " + std::to_string(c.out) + ", " +
              (c.bias ? "True" : "False") + ")\n";
  }
  ref.run(R"PY(
def run(name, n_in, n_out, bias):
    m = torch.nn.Linear(n_in, n_out, bias=bias)
    with torch.no_grad():
        m.weight.copy_(load(name + '_w'))
        if bias:
            m.bias.copy_(load(name + '_b'))
    x = load(name + '_x').requires_grad_()
    y = m(x)
    y.backward(load(name + '_r'))
    save(name + '_y', y)
    save(name + '_gx', x.grad)
    save(name + '_gw', m.weight.grad)
    if bias:
        save(name + '_gb', m.bias.grad)
)PY" + script);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(cases[i].name);
    CHECK(mine[i][0].shape() == ref.get(cases[i].name + "_y").shape());
    CHECK(test::max_rel_diff(mine[i][0], ref.get(cases[i].name + "_y")) < 1e-5);
    CHECK(test::max_rel_diff(mine[i][1], ref.get(cases[i].name + "_gx")) < 1e-5);
    CHECK(test::max_rel_diff(mine[i][2], ref.get(cases[i].name + "_gw")) < 1e-5);
    if (cases[i].bias) CHECK(test::max_rel_diff(mine[i][3], ref.get(cases[i].name + "_gb")) < 1e-5);
  }
}

TEST_CASE("Linear checks shapes and uses PyTorch's default init bound") {
  Generator gen(3);
  layers::Linear lin(100, 20, true, gen);
  CHECK_THROWS_WITH_AS(lin.forward(Tensor::zeros({4, 99})), doctest::Contains("[4, 99]"), Error);
  CHECK_THROWS_WITH_AS(lin.forward(Tensor::zeros({4, 99})), doctest::Contains("[20, 100]"), Error);
  const double bound = 1.0 / std::sqrt(100.0);
  double max_w = 0, max_b = 0;
  for (float v : lin.weight.to_vector<float>()) max_w = std::max(max_w, std::abs(static_cast<double>(v)));
  for (float v : lin.bias.to_vector<float>()) max_b = std::max(max_b, std::abs(static_cast<double>(v)));
  CHECK(max_w <= bound);
  CHECK(max_w > 0.9 * bound);  // 2000 uniform draws fill the range
  CHECK(max_b <= bound);
  CHECK(lin.named_parameters()[0].first == "weight");
  CHECK(lin.named_parameters()[1].first == "bias");
}
