// Every differentiable op in core/ops.h against PyTorch in f32: outputs and input gradients
// (upstream gradient: a fixed random tensor) within 1e-5 relative.
#include <doctest/doctest.h>

#include <functional>

#include "core/autograd.h"
#include "core/init.h"
#include "core/ops.h"
#include "tests/support/torch_ref.h"

using namespace gler;

namespace {

struct OpCase {
  const char* name;
  std::vector<Shape> shapes;
  double lo, hi;  // input range
  std::function<Tensor(const std::vector<Tensor>&)> gler_fn;
  const char* torch_expr;  // in terms of x[0], x[1], ...
};

const std::vector<OpCase>& cases() {
  using In = const std::vector<Tensor>&;
  static const std::vector<OpCase> list = {
      {"add", {{2, 3, 4}, {3, 4}}, -1, 1, [](In x) { return ops::add(x[0], x[1]); }, "x[0] + x[1]"},
      {"sub", {{2, 3, 4}, {4}}, -1, 1, [](In x) { return ops::sub(x[0], x[1]); }, "x[0] - x[1]"},
      {"mul", {{2, 3, 4}, {2, 3, 4}}, -1, 1, [](In x) { return ops::mul(x[0], x[1]); }, "x[0] * x[1]"},
      {"div", {{2, 3, 4}, {3, 4}}, 0.5, 2, [](In x) { return ops::div(x[0], x[1]); }, "x[0] / x[1]"},
      {"neg", {{5, 7}}, -1, 1, [](In x) { return ops::neg(x[0]); }, "-x[0]"},
      {"exp", {{5, 7}}, -2, 2, [](In x) { return ops::exp(x[0]); }, "torch.exp(x[0])"},
      {"log", {{5, 7}}, 0.1, 3, [](In x) { return ops::log(x[0]); }, "torch.log(x[0])"},
      {"sqrt", {{5, 7}}, 0.1, 3, [](In x) { return ops::sqrt(x[0]); }, "torch.sqrt(x[0])"},
      {"abs", {{5, 7}}, -1, 1, [](In x) { return ops::abs(x[0]); }, "torch.abs(x[0])"},
      {"relu", {{5, 7}}, -1, 1, [](In x) { return ops::relu(x[0]); }, "torch.relu(x[0])"},
      {"sigmoid", {{5, 7}}, -4, 4, [](In x) { return ops::sigmoid(x[0]); }, "torch.sigmoid(x[0])"},
      {"tanh", {{5, 7}}, -3, 3, [](In x) { return ops::tanh(x[0]); }, "torch.tanh(x[0])"},
      {"scale", {{5, 7}}, -1, 1, [](In x) { return ops::scale(x[0], 0.3); }, "x[0] * 0.3"},
      {"add_scalar", {{5, 7}}, -1, 1, [](In x) { return ops::add_scalar(x[0], 2.0); }, "x[0] + 2.0"},
      {"pow", {{5, 7}}, 0.1, 2, [](In x) { return ops::pow(x[0], 1.5); }, "torch.pow(x[0], 1.5)"},
      {"clamp_min", {{5, 7}}, -1, 1, [](In x) { return ops::clamp_min(x[0], 0.2); }, "torch.clamp(x[0], min=0.2)"},
      {"clamp", {{5, 7}}, -1, 1, [](In x) { return ops::clamp(x[0], -0.3, 0.4); }, "torch.clamp(x[0], -0.3, 0.4)"},
      {"leaky_relu", {{5, 7}}, -1, 1, [](In x) { return ops::leaky_relu(x[0], 0.1); },
       "torch.nn.functional.leaky_relu(x[0], 0.1)"},
      {"sum", {{3, 4, 5}}, -1, 1, [](In x) { return ops::sum(x[0], 1); }, "x[0].sum(1)"},
      {"mean", {{3, 4, 5}}, -1, 1, [](In x) { return ops::mean(x[0], -1, true); }, "x[0].mean(-1, keepdim=True)"},
      {"max", {{3, 4, 5}}, -1, 1, [](In x) { return ops::max(x[0], 0); }, "x[0].max(0)[0]"},
      {"matmul", {{6, 7}, {7, 5}}, -1, 1, [](In x) { return ops::matmul(x[0], x[1]); }, "x[0] @ x[1]"},
      {"matmul_tt", {{7, 6}, {5, 7}}, -1, 1, [](In x) { return ops::matmul(x[0], x[1], true, true); },
       "x[0].t() @ x[1].t()"},
      {"bmm", {{3, 4, 6}, {3, 6, 2}}, -1, 1, [](In x) { return ops::matmul(x[0], x[1]); }, "torch.bmm(x[0], x[1])"},
      {"softmax", {{4, 9}}, -5, 5, [](In x) { return ops::softmax(x[0], 1); }, "torch.softmax(x[0], 1)"},
      {"log_softmax", {{2, 9, 3}}, -5, 5, [](In x) { return ops::log_softmax(x[0], 1); },
       "torch.log_softmax(x[0], 1)"},
      {"concat", {{2, 3, 4}, {2, 5, 4}}, -1, 1, [](In x) { return ops::concat({x[0], x[1]}, 1); },
       "torch.cat([x[0], x[1]], 1)"},
      {"narrow", {{4, 6}}, -1, 1, [](In x) { return ops::narrow(x[0], 1, 2, 5); }, "x[0][:, 2:5]"},
      {"gather", {{4, 3}}, -1, 1,
       [](In x) { return ops::gather(x[0], Tensor::from_vector<std::int64_t>({2, 0, 1, 1}, {4}), 1); },
       "x[0].gather(1, torch.tensor([[2], [0], [1], [1]])).squeeze(1)"},
      {"scatter", {{4, 3}, {4}}, -1, 1,
       [](In x) { return ops::scatter(x[0], Tensor::from_vector<std::int64_t>({2, 0, 1, 1}, {4}), x[1], 1); },
       "x[0].scatter(1, torch.tensor([[2], [0], [1], [1]]), x[1].unsqueeze(1))"},
      {"expand", {{3, 4}}, -1, 1, [](In x) { return ops::expand(x[0], 1, 5); }, "x[0].unsqueeze(1).expand(3, 5, 4)"},
      {"permute", {{2, 3, 4, 5}}, -1, 1, [](In x) { return ops::permute(x[0], {0, 2, 3, 1}); },
       "x[0].permute(0, 2, 3, 1)"},
      {"permute_swap_last_two", {{3, 5, 4, 7}}, -1, 1, [](In x) { return ops::permute(x[0], {0, 1, 3, 2}); },
       "x[0].permute(0, 1, 3, 2)"},
      {"permute_trailing_in_place", {{3, 4, 2, 6}}, -1, 1, [](In x) { return ops::permute(x[0], {1, 0, 2, 3}); },
       "x[0].permute(1, 0, 2, 3)"},
      {"permute_reverse_5d", {{2, 3, 1, 4, 5}}, -1, 1, [](In x) { return ops::permute(x[0], {4, 3, 2, 1, 0}); },
       "x[0].permute(4, 3, 2, 1, 0)"},
      // Over the parallel grain: each thread starts its rows mid-tensor.
      {"permute_threads", {{41, 32, 6, 5}}, -1, 1, [](In x) { return ops::permute(x[0], {0, 1, 3, 2}); },
       "x[0].permute(0, 1, 3, 2)"},
  };
  return list;
}

}  // namespace

TEST_CASE("core ops match PyTorch in f32 (forward and backward)") {
  test::TorchRef ref;
  std::string script = "cases = {}\n";
  std::vector<std::vector<Tensor>> gler_grads;
  std::vector<Tensor> gler_out;
  Generator gen(2024);
  for (std::size_t c = 0; c < cases().size(); ++c) {
    const OpCase& oc = cases()[c];
    std::vector<Tensor> inputs;
    for (std::size_t i = 0; i < oc.shapes.size(); ++i) {
      Tensor t = Tensor::empty(oc.shapes[i]);
      uniform_(t, oc.lo, oc.hi, gen);
      t.requires_grad_();
      ref.put(std::string(oc.name) + "_x" + std::to_string(i), t);
      inputs.push_back(t);
    }
    Tensor y = oc.gler_fn(inputs);
    Tensor r = Tensor::empty(y.shape());
    uniform_(r, -1, 1, gen);
    ref.put(std::string(oc.name) + "_r", r);
    backward(y, r);
    gler_out.push_back(y);
    std::vector<Tensor> grads;
    for (auto& t : inputs) grads.push_back(t.grad());
    gler_grads.push_back(grads);
    script += "cases['" + std::string(oc.name) + "'] = (" + std::to_string(oc.shapes.size()) + ", lambda x: " +
              oc.torch_expr + ")\n";
  }
  script += R"PY(
for name, (n, fn) in cases.items():
    x = [load(f'{name}_x{i}').requires_grad_() for i in range(n)]
    y = fn(x)
    y.backward(load(f'{name}_r'))
    save(f'{name}_y', y)
    for i in range(n):
        save(f'{name}_g{i}', x[i].grad)
)PY";
  ref.run(script);
  for (std::size_t c = 0; c < cases().size(); ++c) {
    const std::string name = cases()[c].name;
    CAPTURE(name);
    Tensor ty = ref.get(name + "_y");
    CHECK(ty.shape() == gler_out[c].shape());
    CHECK(test::max_rel_diff(gler_out[c], ty) < 1e-5);
    for (std::size_t i = 0; i < gler_grads[c].size(); ++i) {
      CAPTURE(i);
      CHECK(test::max_rel_diff(gler_grads[c][i], ref.get(name + "_g" + std::to_string(i))) < 1e-5);
    }
  }
}
