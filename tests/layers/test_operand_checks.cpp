// Every layer with parameters refuses an input whose dtype differs from its parameters with a clear
// error naming both, before any kernel touches memory. (A device mix, CPU input into a CUDA layer,
// runs in the gpu label: tests/cuda/test_cuda_layers.cpp.)
#include <doctest/doctest.h>

#include <string>

#include "core/error.h"
#include "core/init.h"
#include "layers/activations.h"
#include "layers/angle_softmax.h"
#include "layers/attention_pooling.h"
#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/cross_entropy.h"
#include "layers/dense_block.h"
#include "layers/linear.h"
#include "layers/lsoftmax.h"
#include "tests/support/tensors.h"

using namespace gler;
using namespace gler::layers;

namespace {

Tensor f64_input(const Shape& shape) { return Tensor::full(shape, 0.5, DType::f64); }

template <class F>
void expect_dtype_error(const char* what, F&& f) {
  test::expect_error_naming(what, {"f64", "f32"}, f);
}

}  // namespace

TEST_CASE("layers refuse an input of another dtype than their parameters") {
  Generator gen(1);
  Conv2d conv(3, 4, 3, gen);
  expect_dtype_error("Conv2d", [&] { conv.forward(f64_input({1, 3, 5, 5})); });
  Linear lin(4, 2, true, gen);
  expect_dtype_error("Linear", [&] { lin.forward(f64_input({2, 4})); });
  PReLU prelu(3);
  expect_dtype_error("PReLU", [&] { prelu.forward(f64_input({1, 3, 2, 2})); });
  BatchNorm2d bn2(3);
  expect_dtype_error("BatchNorm2d train", [&] { bn2.forward(f64_input({2, 3, 2, 2})); });
  bn2.eval();
  expect_dtype_error("BatchNorm2d eval", [&] { bn2.forward(f64_input({2, 3, 2, 2})); });
  BatchNorm1d bn1(4);
  expect_dtype_error("BatchNorm1d", [&] { bn1.forward(f64_input({2, 4})); });
  LSoftmaxLinear lsm(4, 3, gen);
  expect_dtype_error("LSoftmaxLinear", [&] { lsm.forward(f64_input({2, 4}), Tensor::from_vector<std::int64_t>({0, 1}, {2})); });
  AngleLinear angle(4, 3, gen);
  expect_dtype_error("AngleLinear", [&] { angle.forward(f64_input({2, 4})); });
  DenseLayer layer(4, 2, 2, 0.0, gen);
  expect_dtype_error("DenseLayer", [&] { layer.forward(f64_input({1, 4, 3, 3})); });
  DenseBlock block(2, 4, 2, 2, 0.0, gen);
  expect_dtype_error("DenseBlock train", [&] { block.forward(f64_input({2, 4, 3, 3})); });
  block.eval();
  expect_dtype_error("DenseBlock eval", [&] { block.forward(f64_input({2, 4, 3, 3})); });
  Transition transition(4, 2, gen);
  expect_dtype_error("Transition", [&] { transition.forward(f64_input({1, 4, 4, 4})); });
}

TEST_CASE("the fused dense block names a parameter left in another dtype") {
  Generator gen(2);
  DenseBlock block(2, 4, 2, 2, 0.0, gen);
  // Convert one weight in place (module and member share the impl), as a stray cast would.
  const Tensor& w = block.layers[1]->conv2.weight;
  const Tensor converted = w.detach().to(DType::f64);
  w.impl().storage = converted.impl().storage;
  w.impl().dtype = DType::f64;
  test::expect_error_naming("stray f64 weight", {"denselayer2.conv2.weight"},
                            [&] { block.forward(Tensor::full({2, 4, 3, 3}, 0.5)); });
}

TEST_CASE("functional layers refuse mixed operands") {
  const Tensor scores = Tensor::full({2, 3}, 0.1), counts = Tensor::from_vector<std::int64_t>({1, 2}, {2});
  expect_dtype_error("attention_pooling", [&] { attention_pooling(scores, counts, f64_input({2, 3, 4}), false); });
  expect_dtype_error("cross_entropy vs linear", [&] {
    Generator gen(3);
    Linear lin(4, 3, true, gen);
    cross_entropy(lin.forward(f64_input({2, 4})), Tensor::from_vector<std::int64_t>({0, 1}, {2}));
  });
  expect_dtype_error("attention_pooling scores", [&] {
    attention_pooling(Tensor::full({2, 3}, 0.1, DType::f64), counts, Tensor::full({2, 3, 4}, 0.5), false);
  });
}
