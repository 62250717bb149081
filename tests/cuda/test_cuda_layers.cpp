// Layer modules (layers/) built from the same seed on both devices, one moved to the GPU: the
// forward output, the input gradient, every parameter gradient and every buffer (running
// statistics after a training step) must match the CPU's.
#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <string>

#include "core/autograd.h"
#include "core/init.h"
#include "core/ops.h"
#include "layers/activations.h"
#include "layers/attention_pooling.h"
#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/conv_prelu.h"
#include "layers/cross_entropy.h"
#include "layers/dense_block.h"
#include "layers/dropout.h"
#include "layers/pool2d.h"
#include "tests/cuda/parity.h"

using namespace gler;
using test::on;
using test::random_cpu;

namespace {

void check_close(const Tensor& gpu, const Tensor& cpu, bool exact, const std::string& what) {
  CHECK_MESSAGE(gpu.defined() == cpu.defined(), what << ": defined on one device only");
  if (!gpu.defined() || !cpu.defined()) return;
  const double tol = is_floating(cpu.dtype()) ? test::tolerance(cpu.dtype()) : 0.0;
  const std::string why = test::compare(gpu, cpu, exact || !is_floating(cpu.dtype()), tol);
  CHECK_MESSAGE(why.empty(), what << ": " << why);
}

// make() builds the module from a fixed seed; forward(m, x) runs it. Both devices run `steps`
// forward/backward passes (so running statistics move), then everything is compared.
template <class M>
void check_layer(const std::string& name, const std::function<std::unique_ptr<M>()>& make, const Tensor& x_cpu,
                 const std::function<Tensor(const M&, const Tensor&)>& forward, bool training, bool exact = false) {
  INFO(name);
  std::unique_ptr<M> mc = make(), mg = make();
  mg->to(Device::CUDA);
  mc->train(training);
  mg->train(training);
  Tensor xc = on(x_cpu, Device::CPU), xg = on(x_cpu, Device::CUDA);
  xc.requires_grad_();
  xg.requires_grad_();
  Tensor yc, yg;
  for (int step = 0; step < 2; ++step) {
    yc = forward(*mc, xc);
    yg = forward(*mg, xg);
    const Tensor r = random_cpu(yc.shape(), yc.dtype(), 500 + static_cast<std::uint64_t>(step));
    if (yc.requires_grad()) {
      backward(ops::sum_all(ops::mul(yc, r)));
      backward(ops::sum_all(ops::mul(yg, r.to(Device::CUDA))));
    }
  }
  CHECK(yg.device() == Device::CUDA);
  check_close(yg, yc, exact, name + " output");
  check_close(xg.grad(), xc.grad(), false, name + " input gradient");
  const NamedTensors pc = mc->named_parameters(), pg = mg->named_parameters();
  REQUIRE(pc.size() == pg.size());
  for (std::size_t i = 0; i < pc.size(); ++i) {
    CHECK(pg[i].second.device() == Device::CUDA);
    check_close(pg[i].second.grad(), pc[i].second.grad(), false, name + " gradient of " + pc[i].first);
  }
  const NamedTensors bc = mc->named_buffers(), bg = mg->named_buffers();
  REQUIRE(bc.size() == bg.size());
  for (std::size_t i = 0; i < bc.size(); ++i) check_close(bg[i].second, bc[i].second, false, name + " buffer " + bc[i].first);
}

template <class M, class... A>
std::function<std::unique_ptr<M>()> seeded(std::uint64_t seed, A... args) {
  return [=] {
    Generator gen(seed);
    return std::make_unique<M>(args..., gen);
  };
}

}  // namespace

TEST_CASE("Conv2d on the GPU matches the CPU") {
  using layers::Conv2d;
  using layers::Conv2dOptions;
  auto fwd = [](const Conv2d& m, const Tensor& x) { return m.forward(x); };
  const Tensor x = random_cpu({2, 4, 9, 8}, DType::f32, 1);
  check_layer<Conv2d>("conv 3x3 pad 1", [] { Generator g(3); return std::make_unique<Conv2d>(4, 6, 3, g, Conv2dOptions{1, 1, 1, 1, true}); },
                      x, fwd, true);
  check_layer<Conv2d>("conv stride 2 groups 2 no bias",
                      [] { Generator g(4); return std::make_unique<Conv2d>(4, 6, 3, g, Conv2dOptions{2, 0, 1, 2, false}); }, x, fwd,
                      true);
  check_layer<Conv2d>("conv depthwise dilated",
                      [] { Generator g(5); return std::make_unique<Conv2d>(4, 4, 3, g, Conv2dOptions{1, 2, 2, 4, true}); }, x, fwd,
                      true);
  check_layer<Conv2d>("conv f64", [] {
    Generator g(6);
    auto m = std::make_unique<Conv2d>(4, 5, 1, g);
    m->to(DType::f64);
    return m;
  }, x.to(DType::f64), fwd, true);
}

TEST_CASE("the fused Conv2d + PReLU (+ MaxPool2d) of inference on the GPU matches the CPU") {
  using layers::Conv2d;
  using layers::MaxPool2d;
  using layers::PReLU;
  Generator gc(7), gg(7);
  const Conv2d conv_cpu(4, 20, 3, gc), conv_gpu(4, 20, 3, gg);
  const PReLU act_cpu(20, 0.1), act_gpu(20, 0.1);
  conv_gpu.to(Device::CUDA);
  act_gpu.to(Device::CUDA);
  const MaxPool2d pool(3, 2, 0, true);
  const Tensor x = random_cpu({3, 4, 13, 12}, DType::f32, 9);
  NoGradGuard no_grad;
  for (const MaxPool2d* p : {&pool, static_cast<const MaxPool2d*>(nullptr)}) {
    const Tensor yc = layers::conv2d_prelu(conv_cpu, act_cpu, p, on(x, Device::CPU));
    const Tensor yg = layers::conv2d_prelu(conv_gpu, act_gpu, p, on(x, Device::CUDA));
    CHECK(yg.device() == Device::CUDA);
    check_close(yg, yc, false, p ? "conv2d_prelu pooled" : "conv2d_prelu");
  }
}

TEST_CASE("BatchNorm on the GPU matches the CPU, running statistics included") {
  using layers::BatchNorm1d;
  using layers::BatchNorm2d;
  auto fwd2 = [](const BatchNorm2d& m, const Tensor& x) { return m.forward(x); };
  auto fwd1 = [](const BatchNorm1d& m, const Tensor& x) { return m.forward(x); };
  const Tensor x4 = random_cpu({4, 5, 6, 7}, DType::f32, 2, -1, 3), x2 = random_cpu({8, 6}, DType::f32, 3, -2, 2);
  for (bool training : {true, false}) {
    const std::string mode = training ? " train" : " eval";
    check_layer<BatchNorm2d>("BatchNorm2d" + mode, [] { return std::make_unique<BatchNorm2d>(5); }, x4, fwd2, training);
    check_layer<BatchNorm2d>("BatchNorm2d no affine" + mode,
                             [] { return std::make_unique<BatchNorm2d>(5, 1e-5, 0.1, false); }, x4, fwd2, training);
    check_layer<BatchNorm1d>("BatchNorm1d" + mode, [] { return std::make_unique<BatchNorm1d>(6); }, x2, fwd1, training);
  }
}

TEST_CASE("pooling and PReLU modules on the GPU match the CPU") {
  using layers::AvgPool2d;
  using layers::MaxPool2d;
  using layers::PReLU;
  const Tensor x = random_cpu({2, 3, 9, 10}, DType::f32, 4);
  check_layer<MaxPool2d>("MaxPool2d 3/2/1 ceil", [] { return std::make_unique<MaxPool2d>(3, 2, 1, true); }, x,
                         [](const MaxPool2d& m, const Tensor& t) { return m.forward(t); }, true, true);
  check_layer<AvgPool2d>("AvgPool2d 3/2/1 ceil exclude-pad", [] { return std::make_unique<AvgPool2d>(3, 2, 1, true, false); },
                         x, [](const AvgPool2d& m, const Tensor& t) { return m.forward(t); }, true);
  check_layer<AvgPool2d>("global average pool", [] { return std::make_unique<AvgPool2d>(2); }, x,
                         [](const AvgPool2d&, const Tensor& t) { return layers::global_avg_pool2d(t); }, true);
  check_layer<PReLU>("PReLU per channel", [] { return std::make_unique<PReLU>(3, 0.2); }, x,
                     [](const PReLU& m, const Tensor& t) { return m.forward(t); }, true);
  check_layer<PReLU>("PReLU shared", [] { return std::make_unique<PReLU>(); }, x,
                     [](const PReLU& m, const Tensor& t) { return m.forward(t); }, true);
}

TEST_CASE("Dropout draws the same mask on both devices") {
  using layers::Dropout;
  const Tensor x = random_cpu({16, 33}, DType::f32, 5);
  auto gen_c = std::make_shared<Generator>(42), gen_g = std::make_shared<Generator>(42);
  // One generator per device, advanced identically: the masks must be bit-identical.
  int calls = 0;
  check_layer<Dropout>("Dropout p=0.3", [] { return std::make_unique<Dropout>(0.3); }, x,
                       [&](const Dropout& m, const Tensor& t) {
                         return m.forward(t, (calls++ % 2 == 0) ? *gen_c : *gen_g);
                       },
                       true, true);
}

TEST_CASE("a DenseBlock (BN, ReLU, conv, concat) trains the same on both devices") {
  using layers::DenseBlock;
  const Tensor x = random_cpu({2, 8, 6, 6}, DType::f32, 6);
  check_layer<DenseBlock>("DenseBlock 2 layers", seeded<DenseBlock>(7, 2, std::int64_t{8}, std::int64_t{2}, std::int64_t{4}, 0.0),
                          x, [](const DenseBlock& m, const Tensor& t) { return m.forward(t); }, true);
}

TEST_CASE("losses and attention pooling on the GPU match the CPU") {
  const Tensor logits = random_cpu({6, 5}, DType::f32, 7, -3, 3);
  const Tensor labels = Tensor::from_vector<std::int64_t>({0, 4, 2, 2, 1, 3}, {6});
  Tensor lc = on(logits, Device::CPU), lg = on(logits, Device::CUDA);
  lc.requires_grad_();
  lg.requires_grad_();
  const Tensor ec = layers::cross_entropy(lc, labels), eg = layers::cross_entropy(lg, labels.to(Device::CUDA));
  check_close(eg, ec, false, "cross_entropy");
  backward(ec);
  backward(eg);
  check_close(lg.grad(), lc.grad(), false, "cross_entropy gradient");

  const Tensor scores = random_cpu({3, 4}, DType::f32, 8, -2, 2), features = random_cpu({3, 4, 6}, DType::f32, 9);
  const Tensor counts = Tensor::from_vector<std::int64_t>({4, 0, 2}, {3});
  Tensor sc = on(scores, Device::CPU), sg = on(scores, Device::CUDA), fc = on(features, Device::CPU),
         fg = on(features, Device::CUDA);
  for (Tensor* t : {&sc, &sg, &fc, &fg}) t->requires_grad_();
  const layers::AttentionPooled pc = layers::attention_pooling(sc, counts, fc, false);
  const layers::AttentionPooled pg = layers::attention_pooling(sg, counts.to(Device::CUDA), fg, false);
  check_close(pg.weights, pc.weights, false, "attention weights");
  check_close(pg.pooled, pc.pooled, false, "attention pooled");
  const Tensor r = random_cpu(pc.pooled.shape(), DType::f32, 10);
  backward(ops::sum_all(ops::mul(pc.pooled, r)));
  backward(ops::sum_all(ops::mul(pg.pooled, r.to(Device::CUDA))));
  check_close(sg.grad(), sc.grad(), false, "attention score gradient");
  check_close(fg.grad(), fc.grad(), false, "attention feature gradient");
}

TEST_CASE("BatchNorm on the GPU counts batches on the host and follows a loaded state dict") {
  // One CPU step, a load of 41, then the move: the buffer's new storage starts at a low version
  // again, so the count must notice the storage change, not only the version.
  layers::BatchNorm2d bn(3);
  const Tensor x = random_cpu({4, 3, 5, 5}, DType::f32, 11);
  bn.forward(x);
  NamedTensors loaded;
  for (const auto& [name, t] : bn.state_dict())
    loaded.emplace_back(name, name == "num_batches_tracked" ? Tensor::scalar(41, DType::i64) : t.clone());
  bn.load_state_dict(loaded);
  bn.to(Device::CUDA);
  const Tensor xg = x.to(Device::CUDA);
  bn.forward(xg);
  CHECK(bn.num_batches_tracked.device() == Device::CUDA);
  CHECK(bn.num_batches_tracked.item() == 42);
  bn.forward(xg);
  bn.forward(xg);
  CHECK(bn.num_batches_tracked.item() == 44);
}

TEST_CASE("attention pooling on the GPU raises a face count outside [0, F] by the next synchronisation") {
  const Tensor scores = random_cpu({2, 3}, DType::f32, 12).to(Device::CUDA);
  const Tensor counts = Tensor::from_vector<std::int64_t>({4, 1}, {2}).to(Device::CUDA);
  const auto softmax_then_read = [&] { return layers::masked_softmax(scores, counts).to_vector<float>(); };
  CHECK_THROWS_WITH_AS(softmax_then_read(), doctest::Contains("masked_softmax: a face count"), Error);
  const Tensor fine = Tensor::from_vector<std::int64_t>({3, 0}, {2}).to(Device::CUDA);
  CHECK(layers::masked_softmax(scores, fine).to_vector<float>().size() == 6);
}
