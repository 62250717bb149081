// The differentiable ops of core/ops.h (and the layers present in layers/) on both devices: the
// same forward on the same inputs, then backward of sum(y * r) for a fixed random r; outputs and
// every input gradient of the CUDA run are compared with the CPU run.
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/init.h"
#include "core/ops.h"
#include "layers/linear.h"
#include "tests/cuda/parity.h"

using namespace gler;
using test::random_cpu;

namespace {

struct OpCase {
  std::string name;
  std::vector<Tensor> inputs;  // CPU; floating inputs get requires_grad
  std::function<Tensor(const std::vector<Tensor>&)> f;
  bool exact = false;
};

struct Run {
  Tensor y;
  std::vector<Tensor> grads;
};

Run run_on(const OpCase& c, Device d) {
  std::vector<Tensor> xs;
  for (const Tensor& x : c.inputs) {
    Tensor leaf = test::on(x, d);
    if (is_floating(leaf.dtype())) leaf.requires_grad_();
    xs.push_back(leaf);
  }
  Run r;
  r.y = c.f(xs);
  if (r.y.requires_grad()) {
    const Tensor weight = test::on(random_cpu(r.y.shape(), r.y.dtype(), 999), d);
    backward(ops::sum_all(ops::mul(r.y, weight)));
    for (const Tensor& x : xs) r.grads.push_back(x.grad());
  }
  return r;
}

void check_case(const OpCase& c) {
  const Run cpu = run_on(c, Device::CPU);
  Run gpu;
  try {
    gpu = run_on(c, Device::CUDA);
  } catch (const Error& e) {
    FAIL_CHECK(c.name << " threw on CUDA: " << e.what());
    return;
  }
  const double tol = test::tolerance(c.inputs[0].dtype());
  const std::string why = test::compare(gpu.y, cpu.y, c.exact, tol);
  CHECK_MESSAGE(why.empty(), c.name << " forward: " << why);
  REQUIRE(cpu.grads.size() == gpu.grads.size());
  for (std::size_t i = 0; i < cpu.grads.size(); ++i) {
    CHECK_MESSAGE(cpu.grads[i].defined() == gpu.grads[i].defined(), c.name << " gradient " << i);
    if (!cpu.grads[i].defined() || !gpu.grads[i].defined()) continue;
    CHECK_MESSAGE(gpu.grads[i].device() == Device::CUDA, c.name << " gradient " << i << " left the GPU");
    const std::string g = test::compare(gpu.grads[i], cpu.grads[i], false, tol);
    CHECK_MESSAGE(g.empty(), c.name << " gradient " << i << ": " << g);
  }
}

using Args = const std::vector<Tensor>&;

std::vector<OpCase> op_cases(DType t) {
  const Tensor a = random_cpu({4, 5, 6}, t, 1), b = random_cpu({4, 5, 6}, t, 2), suffix = random_cpu({5, 6}, t, 3);
  const Tensor pos = random_cpu({4, 5, 6}, t, 4, 0.2, 3.0), one = random_cpu({1}, t, 5, 0.5, 2.0);
  const Tensor m1 = random_cpu({7, 9}, t, 6), m2 = random_cpu({9, 5}, t, 7), m2t = random_cpu({5, 9}, t, 8);
  const Tensor bm1 = random_cpu({3, 7, 9}, t, 9), bm2 = random_cpu({3, 9, 5}, t, 10);
  const Tensor labels = Tensor::from_vector<std::int64_t>({0, 3, 4, 1, 2, 2, 0}, {7});
  std::vector<OpCase> cs = {
      {"add", {a, b}, [](Args x) { return ops::add(x[0], x[1]); }},
      {"add (suffix broadcast)", {a, suffix}, [](Args x) { return ops::add(x[0], x[1]); }},
      {"sub (scalar)", {a, one}, [](Args x) { return ops::sub(x[0], x[1]); }},
      {"mul (suffix broadcast, swapped)", {suffix, a}, [](Args x) { return ops::mul(x[0], x[1]); }},
      {"div", {a, pos}, [](Args x) { return ops::div(x[0], x[1]); }},
      {"div (scalar)", {pos, one}, [](Args x) { return ops::div(x[0], x[1]); }},
      {"neg", {a}, [](Args x) { return ops::neg(x[0]); }},
      {"exp", {a}, [](Args x) { return ops::exp(x[0]); }},
      {"log", {pos}, [](Args x) { return ops::log(x[0]); }},
      {"sqrt", {pos}, [](Args x) { return ops::sqrt(x[0]); }},
      {"abs", {a}, [](Args x) { return ops::abs(x[0]); }},
      {"relu", {a}, [](Args x) { return ops::relu(x[0]); }},
      {"sigmoid", {a}, [](Args x) { return ops::sigmoid(x[0]); }},
      {"tanh", {a}, [](Args x) { return ops::tanh(x[0]); }},
      {"scale", {a}, [](Args x) { return ops::scale(x[0], -2.5); }},
      {"add_scalar", {a}, [](Args x) { return ops::add_scalar(x[0], 0.75); }},
      {"pow", {pos}, [](Args x) { return ops::pow(x[0], 1.7); }},
      {"clamp_min", {a}, [](Args x) { return ops::clamp_min(x[0], 0.1); }},
      {"leaky_relu", {a}, [](Args x) { return ops::leaky_relu(x[0], 0.2); }},
      {"clamp", {a}, [](Args x) { return ops::clamp(x[0], -0.3, 0.4); }},
      {"sign", {a}, [](Args x) { return ops::sign(x[0]); }, true},
      {"acos", {a}, [](Args x) { return ops::acos(x[0]); }},
      {"floor", {a}, [](Args x) { return ops::floor(x[0]); }, true},
      {"sum axis 0", {a}, [](Args x) { return ops::sum(x[0], 0); }},
      {"sum axis 1 keepdim", {a}, [](Args x) { return ops::sum(x[0], 1, true); }},
      {"mean axis -1", {a}, [](Args x) { return ops::mean(x[0], -1); }},
      {"max axis 1", {a}, [](Args x) { return ops::max(x[0], 1); }, true},
      {"max axis -1 keepdim", {a}, [](Args x) { return ops::max(x[0], -1, true); }, true},
      {"argmax axis 2", {a}, [](Args x) { return ops::argmax(x[0], 2); }, true},
      {"sum_all", {a}, [](Args x) { return ops::sum_all(x[0]); }},
      {"mean_all", {a}, [](Args x) { return ops::mean_all(x[0]); }},
      {"matmul", {m1, m2}, [](Args x) { return ops::matmul(x[0], x[1]); }},
      {"matmul trans_b", {m1, m2t}, [](Args x) { return ops::matmul(x[0], x[1], false, true); }},
      {"matmul trans_a", {m2, m1}, [](Args x) { return ops::matmul(x[0], x[1], true, true); }},
      {"matmul batched", {bm1, bm2}, [](Args x) { return ops::matmul(x[0], x[1]); }},
      {"matmul batched x 2-d", {bm1, m2}, [](Args x) { return ops::matmul(x[0], x[1]); }},
      {"softmax axis -1", {a}, [](Args x) { return ops::softmax(x[0], -1); }},
      {"softmax axis 1", {a}, [](Args x) { return ops::softmax(x[0], 1); }},
      {"log_softmax axis -1", {a}, [](Args x) { return ops::log_softmax(x[0], -1); }},
      {"log_softmax axis 0", {a}, [](Args x) { return ops::log_softmax(x[0], 0); }},
      {"concat axis 1", {a, b}, [](Args x) { return ops::concat({x[0], x[1]}, 1); }},
      {"concat axis 2", {a, b}, [](Args x) { return ops::concat({x[1], x[0], x[1]}, 2); }},
      {"split axis 2", {a},
       [](Args x) {
         const auto p = ops::split(x[0], {2, 4}, 2);
         return ops::concat({ops::scale(p[1], 2.0), p[0]}, 2);
       }},
      {"narrow axis 1", {a}, [](Args x) { return ops::narrow(x[0], 1, 1, 4); }},
      {"gather axis 1 (class scores)", {m1, labels},
       [](Args x) { return ops::gather(ops::narrow(x[0], 1, 0, 5), x[1], 1); }},
      {"scatter axis 1 (replace class scores)", {m1, labels, random_cpu({7}, t, 12)},
       [](Args x) { return ops::scatter(ops::narrow(x[0], 1, 0, 5), x[1], x[2], 1); }},
      {"expand axis 1", {suffix}, [](Args x) { return ops::expand(x[0], 1, 3); }},
      {"expand axis 0", {suffix}, [](Args x) { return ops::expand(x[0], 0, 4); }},
      {"permute", {a}, [](Args x) { return ops::permute(x[0], {2, 0, 1}); }},
      {"transpose", {a}, [](Args x) { return ops::transpose(x[0], 0, 2); }},
      {"reshape + slice", {a}, [](Args x) { return ops::mul(x[0].reshape({20, 6}).slice(3, 11), x[0].reshape({20, 6}).slice(3, 11)); }},
      {"to other dtype", {a}, [t](Args x) { return x[0].to(t == DType::f32 ? DType::f64 : DType::f32); }},
      {"linear", {m1, m2t, random_cpu({5}, t, 11)}, [](Args x) { return layers::linear(x[0], x[1], x[2]); }},
      {"composite (softmax cross-entropy)", {m1, labels},
       [](Args x) {
         const Tensor logits = ops::narrow(x[0], 1, 0, 5);
         return ops::neg(ops::mean_all(ops::gather(ops::log_softmax(logits, 1), x[1], 1)));
       }},
  };
  return cs;
}

}  // namespace

TEST_CASE("core ops and their gradients match the CPU (f32)") {
  for (const OpCase& c : op_cases(DType::f32)) check_case(c);
}

TEST_CASE("core ops and their gradients match the CPU (f64)") {
  for (const OpCase& c : op_cases(DType::f64)) check_case(c);
}

TEST_CASE("a Linear module moved to the GPU computes what it computes on the CPU") {
  Generator gen(5);
  layers::Linear cpu(12, 7, true, gen);
  Generator gen2(5);
  layers::Linear gpu(12, 7, true, gen2);
  gpu.to(Device::CUDA);
  const Tensor x = random_cpu({4, 12}, DType::f32, 21);
  const Tensor yc = cpu.forward(x), yg = gpu.forward(x.to(Device::CUDA));
  CHECK(yg.device() == Device::CUDA);
  const std::string why = test::compare(yg, yc, false, 1e-4);
  CHECK_MESSAGE(why.empty(), why);
  backward(ops::sum_all(yc));
  backward(ops::sum_all(yg));
  CHECK_MESSAGE(test::compare(gpu.weight.grad(), cpu.weight.grad(), false, 1e-4).empty(), "weight gradient");
  CHECK_MESSAGE(test::compare(gpu.bias.grad(), cpu.bias.grad(), false, 1e-4).empty(), "bias gradient");
}

TEST_CASE("random initialisation draws the same parameters on both devices") {
  Generator g1(77), g2(77);
  Tensor c = Tensor::empty({1001}, DType::f32, Device::CPU), d = Tensor::empty({1001}, DType::f32, Device::CUDA);
  uniform_(c, -0.5, 0.5, g1);
  uniform_(d, -0.5, 0.5, g2);
  CHECK(test::compare(d, c, true, 0).empty());
  normal_(c, 0.0, 1.0, g1);
  normal_(d, 0.0, 1.0, g2);
  CHECK(test::compare(d, c, false, 1e-6).empty());
}
