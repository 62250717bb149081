// Device mixes are refused with a clear error before any kernel touches memory: a CPU input into a
// layer whose parameters live on the GPU, a GPU tensor into a CPU kernel, a device that does not
// exist; and each tensor's storage stays with the backend (device) that allocated it.
#include <doctest/doctest.h>

#include <string>

#include "core/backend.h"
#include "core/error.h"
#include "core/init.h"
#include "layers/activations.h"
#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/dense_block.h"
#include "layers/linear.h"
#include "layers/lsoftmax.h"
#include "tests/cuda/parity.h"
#include "tests/support/tensors.h"

using namespace gler;
using namespace gler::layers;

namespace {

template <class F>
void expect_device_error(const char* what, F&& f) {
  test::expect_error_naming(what, {"cpu", "cuda:0"}, f);
}

Tensor cpu_input(const Shape& s) { return Tensor::full(s, 0.5); }

}  // namespace

TEST_CASE("layers on the GPU refuse a CPU input, naming both devices") {
  Generator gen(1);
  Conv2d conv(3, 4, 3, gen);
  conv.to(Device::CUDA);
  expect_device_error("Conv2d", [&] { conv.forward(cpu_input({1, 3, 5, 5})); });
  Linear lin(4, 2, true, gen);
  lin.to(Device::CUDA);
  expect_device_error("Linear", [&] { lin.forward(cpu_input({2, 4})); });
  PReLU prelu(3);
  prelu.to(Device::CUDA);
  expect_device_error("PReLU", [&] { prelu.forward(cpu_input({1, 3, 2, 2})); });
  BatchNorm2d bn(3);
  bn.to(Device::CUDA);
  expect_device_error("BatchNorm2d", [&] { bn.forward(cpu_input({2, 3, 2, 2})); });
  LSoftmaxLinear lsm(4, 3, gen);
  lsm.to(Device::CUDA);
  expect_device_error("LSoftmaxLinear", [&] { lsm.forward(cpu_input({2, 4})); });
  DenseBlock block(2, 4, 2, 2, 0.0, gen);
  block.to(Device::CUDA);
  expect_device_error("DenseBlock", [&] { block.forward(cpu_input({2, 4, 3, 3})); });
  Transition transition(4, 2, gen);
  transition.to(Device::CUDA);
  expect_device_error("Transition", [&] { transition.forward(cpu_input({1, 4, 4, 4})); });
}

TEST_CASE("a CPU layer refuses a GPU input, and the fused block names a stray parameter") {
  Generator gen(2);
  DenseBlock block(2, 4, 2, 2, 0.0, gen);
  expect_device_error("DenseBlock on CPU", [&] { block.forward(cpu_input({2, 4, 3, 3}).to(Device::CUDA)); });
  const Tensor& w = block.layers[0]->conv1.weight;
  const Tensor moved = w.detach().to(Device::CUDA);
  w.impl().storage = moved.impl().storage;  // one weight left on the GPU
  test::expect_error_naming("stray GPU weight", {"denselayer1.conv1.weight"}, [&] { block.forward(cpu_input({2, 4, 3, 3})); });
}

TEST_CASE("the CPU backend never dereferences a device pointer") {
  const Tensor g = Tensor::zeros({4}, DType::f32, Device::CUDA);
  CHECK_THROWS_WITH_AS(g.host_data<float>(), doctest::Contains("a CPU kernel was given"), Error);
  Tensor out = Tensor::empty({4});
  CHECK_THROWS_AS(backend_for(Device::CPU).cast(g, out), Error);
}

TEST_CASE("device identity: storages keep their backend, unknown devices are refused") {
  const Tensor g = Tensor::zeros({4}, DType::f32, Device::CUDA);
  CHECK(g.device() == Device::cuda(0));
  CHECK(&g.impl().storage->backend() == &backend_for(Device::cuda(0)));
  const int n = cuda_device_count();
  CHECK(n >= 1);
  CHECK_THROWS_WITH_AS(backend_for(Device::cuda(n)), doctest::Contains("does not exist"), Error);
  if (n >= 2) {  // a tensor on cuda:1 is allocated, used and freed there, whatever is current
    Tensor t = Tensor::full({1000}, 2.0, DType::f32, Device::cuda(1));
    CHECK(t.device() == Device::cuda(1));
    CHECK(t.to(Device::CUDA).to_vector<float>().back() == 2.0f);
  }
}
