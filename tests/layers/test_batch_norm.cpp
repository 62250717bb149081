// BatchNorm module behaviour that the parity test does not reach: state-dict names, order and
// dtypes, the batch-size and rank errors, and which mode touches the running statistics.
#include <doctest/doctest.h>

#include <algorithm>

#include "core/backend.h"
#include "core/init.h"
#include "core/ops.h"
#include "layers/batch_norm.h"
#include "tests/support/tensors.h"

using namespace gler;

TEST_CASE("BatchNorm state dict follows PyTorch: names, order, shapes, dtypes") {
  layers::BatchNorm2d bn(4);
  const NamedTensors sd = bn.state_dict();
  CHECK(test::names(sd) == std::vector<std::string>{"weight", "bias", "running_mean", "running_var", "num_batches_tracked"});
  CHECK(test::names(bn.named_parameters()) == std::vector<std::string>{"weight", "bias"});
  CHECK(bn.weight.to_vector<float>() == std::vector<float>(4, 1.0f));
  CHECK(bn.bias.to_vector<float>() == std::vector<float>(4, 0.0f));
  CHECK(bn.running_var.to_vector<float>() == std::vector<float>(4, 1.0f));
  CHECK(bn.num_batches_tracked.dtype() == DType::i64);
  CHECK(bn.num_batches_tracked.ndim() == 0);
  bn.to(DType::f64);
  CHECK(bn.running_mean.dtype() == DType::f64);
  CHECK(bn.num_batches_tracked.dtype() == DType::i64);

  layers::BatchNorm1d plain(3, 1e-5, 0.1, false);
  CHECK(test::names(plain.state_dict()) == std::vector<std::string>{"running_mean", "running_var", "num_batches_tracked"});
  CHECK(plain.parameters().empty());
}

TEST_CASE("BatchNorm1d in training needs more than one value per channel, as PyTorch") {
  layers::BatchNorm1d bn(4);
  CHECK_THROWS_WITH(bn.forward(test::uniform_tensor({1, 4}, 1)),
                    doctest::Contains("Expected more than 1 value per channel when training"));
  CHECK(bn.num_batches_tracked.item() == 0);
  bn.eval();
  CHECK(bn.forward(test::uniform_tensor({1, 4}, 1)).shape() == Shape{1, 4});
  bn.train();
  CHECK(bn.forward(test::uniform_tensor({1, 4, 2}, 1)).shape() == Shape{1, 4, 2});  // two values per channel
}

TEST_CASE("BatchNorm rejects the wrong rank or channel count naming the shapes") {
  layers::BatchNorm1d bn1d(3);
  layers::BatchNorm2d bn2d(3);
  CHECK_THROWS_WITH(bn1d.forward(test::uniform_tensor({2, 3, 4, 4}, 1)), doctest::Contains("[2, 3, 4, 4]"));
  CHECK_THROWS_WITH(bn2d.forward(test::uniform_tensor({2, 3, 4}, 1)), doctest::Contains("[2, 3, 4]"));
  CHECK_THROWS_WITH(bn2d.forward(test::uniform_tensor({2, 5, 4, 4}, 1)), doctest::Contains("[2, 5, 4, 4]"));
}

TEST_CASE("Running statistics move in train mode only; num_batches_tracked counts train batches") {
  layers::BatchNorm2d bn(2);
  const Tensor x = test::uniform_tensor({3, 2, 2, 2}, 5);
  bn.forward(x);
  bn.forward(x);
  CHECK(bn.num_batches_tracked.item() == 2);
  const auto mean = bn.running_mean.to_vector<float>(), var = bn.running_var.to_vector<float>();
  CHECK(mean != std::vector<float>(2, 0.0f));
  bn.eval();
  const Tensor y1 = bn.forward(x), y2 = bn.forward(x);
  CHECK(bn.num_batches_tracked.item() == 2);
  CHECK(bn.running_mean.to_vector<float>() == mean);
  CHECK(bn.running_var.to_vector<float>() == var);
  CHECK(y1.to_vector<float>() == y2.to_vector<float>());
}

TEST_CASE("num_batches_tracked continues from a loaded state dict and from any other write to it") {
  // The count is kept on the host (no device read-back per step); these are the writes it must follow.
  layers::BatchNorm2d bn(2);
  const Tensor x = test::uniform_tensor({3, 2, 2, 2}, 5);
  NamedTensors loaded;
  for (const auto& [name, t] : bn.state_dict())
    loaded.emplace_back(name, name == "num_batches_tracked" ? Tensor::scalar(41, DType::i64) : t.clone());
  bn.load_state_dict(loaded);
  CHECK(bn.num_batches_tracked.item() == 41);
  bn.forward(x);
  CHECK(bn.num_batches_tracked.item() == 42);
  bn.forward(x);
  CHECK(bn.num_batches_tracked.item() == 43);
  bn.load_state_dict(loaded);  // after counting: the count restarts from the loaded value
  bn.forward(x);
  CHECK(bn.num_batches_tracked.item() == 42);
  bn.num_batches_tracked.fill_(7);
  bn.forward(x);
  CHECK(bn.num_batches_tracked.item() == 8);
  bn.eval();
  bn.forward(x);
  CHECK(bn.num_batches_tracked.item() == 8);
}

TEST_CASE("The fused ReLU of the BatchNorm kernels equals a ReLU after them, statistics unchanged") {
  // Inputs centred on the running mean's side so that about half the outputs are negative.
  const Tensor x = test::uniform_tensor({2, 3, 5}, 31), gamma = test::uniform_tensor({3}, 32, 0.5, 1.5);
  const Tensor beta = test::uniform_tensor({3}, 33), rm = test::uniform_tensor({3}, 34, -0.2, 0.2);
  const Tensor rv = test::uniform_tensor({3}, 35, 0.5, 2.0);
  Backend& be = x.backend();
  for (bool training : {false, true}) {
    CAPTURE(training);
    Tensor plain = Tensor::empty(x.shape()), fused = Tensor::empty(x.shape());
    Tensor mean0 = Tensor::empty({3}), invstd0 = Tensor::empty({3}), mean1 = Tensor::empty({3}),
           invstd1 = Tensor::empty({3});
    if (training) {
      be.batch_norm_train(x, &gamma, &beta, 1e-5, 0.1, nullptr, nullptr, false, plain, mean0, invstd0);
      be.batch_norm_train(x, &gamma, &beta, 1e-5, 0.1, nullptr, nullptr, true, fused, mean1, invstd1);
      CHECK(mean1.to_vector<float>() == mean0.to_vector<float>());
      CHECK(invstd1.to_vector<float>() == invstd0.to_vector<float>());
    } else {
      be.batch_norm_eval(x, &gamma, &beta, 1e-5, rm, rv, false, plain);
      be.batch_norm_eval(x, &gamma, &beta, 1e-5, rm, rv, true, fused);
    }
    const std::vector<float> expected = ops::relu(plain).to_vector<float>(), got = fused.to_vector<float>();
    CHECK(got == expected);
    const std::vector<float> before = plain.to_vector<float>();
    const auto negatives = std::count_if(before.begin(), before.end(), [](float v) { return v < 0; });
    CHECK(negatives > 5);  // the ReLU had something to do
  }
}
