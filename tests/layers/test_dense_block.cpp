// DenseNet composites: torchvision's state-dict names, the fused block against a chain of plain
// DenseLayer forwards (same weights, dropout included: identical masks from identical generator
// states), running statistics, and memory that grows linearly with depth.
#include <doctest/doctest.h>

#include <optional>

#include "core/autograd.h"
#include "core/backend.h"
#include "core/init.h"
#include "core/ops.h"
#include "layers/dense_block.h"
#include "tests/support/tensors.h"
#include "tests/support/torch_ref.h"

using namespace gler;

namespace {

// The unfused reference: torchvision's loop over the layers with torch.cat.
Tensor chained_forward(const layers::DenseBlock& block, const Tensor& x, Generator* gen) {
  std::vector<Tensor> features{x};
  for (const auto& layer : block.layers) features.push_back(layer->forward(ops::concat(features, 1), gen));
  return ops::concat(features, 1);
}
}  // namespace

TEST_CASE("Dense composites use torchvision's parameter names in order") {
  Generator gen(1);
  layers::DenseBlock block(2, 4, 2, 3, 0.0, gen);
  const auto sd = test::names(block.state_dict());
  REQUIRE(sd.size() == 24);
  CHECK(sd[0] == "denselayer1.norm1.weight");
  CHECK(sd[4] == "denselayer1.norm1.num_batches_tracked");
  CHECK(sd[5] == "denselayer1.conv1.weight");
  CHECK(sd[6] == "denselayer1.norm2.weight");
  CHECK(sd[11] == "denselayer1.conv2.weight");
  CHECK(sd[12] == "denselayer2.norm1.weight");
  CHECK(block.layers[1]->conv1.weight.shape() == Shape{6, 7, 1, 1});
  CHECK(block.layers[1]->conv2.weight.shape() == Shape{3, 6, 3, 3});
  layers::Transition transition(10, 5, gen);
  CHECK(test::names(transition.state_dict()) ==
        std::vector<std::string>{"norm.weight", "norm.bias", "norm.running_mean", "norm.running_var",
                                 "norm.num_batches_tracked", "conv.weight"});
}

TEST_CASE("The fused block equals the chained layers: outputs, gradients, running stats, dropout") {
  // Batch 1 takes the block's own path: its channel-major and NCHW layouts share memory, so views
  // replace the copies.
  for (const std::int64_t batch : {2, 1})
  for (bool training : {true, false}) {
    CAPTURE(batch);
    CAPTURE(training);
    Generator init(3);
    layers::DenseBlock fused(3, 4, 2, 3, 0.2, init);
    Generator init_again(3);
    layers::DenseBlock chained(3, 4, 2, 3, 0.2, init_again);
    fused.train(training);
    chained.train(training);
    Generator data(9);
    Tensor x = Tensor::empty({batch, 4, 5, 3});
    uniform_(x, -1, 1, data);
    Tensor r = Tensor::empty({batch, 13, 5, 3});
    uniform_(r, -1, 1, data);
    Tensor x1 = x.clone().requires_grad_(), x2 = x.clone().requires_grad_();
    Generator drop1(4), drop2(4);
    const Tensor y1 = fused.forward(x1, &drop1), y2 = chained_forward(chained, x2, &drop2);
    backward(y1, r);
    backward(y2, r);
    CHECK(test::max_rel_diff(y1, y2) < 1e-5);
    CHECK(test::max_rel_diff(x1.grad(), x2.grad()) < 1e-5);
    const auto p1 = fused.named_parameters(), p2 = chained.named_parameters();
    for (std::size_t i = 0; i < p1.size(); ++i) {
      CAPTURE(p1[i].first);
      CHECK(test::max_rel_diff(p1[i].second.grad(), p2[i].second.grad()) < 1e-5);
    }
    const auto b1 = fused.named_buffers(), b2 = chained.named_buffers();
    for (std::size_t i = 0; i < b1.size(); ++i) {
      CAPTURE(b1[i].first);
      CHECK(test::max_abs_diff(b1[i].second, b2[i].second) < 1e-6);
    }
  }
}

TEST_CASE("Without a graph the fused block equals the chained layers at batch 1, 2 and 3") {
  Generator init(6);
  layers::DenseBlock fused(4, 5, 2, 3, 0.0, init);
  Generator init_again(6);
  layers::DenseBlock chained(4, 5, 2, 3, 0.0, init_again);
  fused.eval();
  chained.eval();
  Generator stats(8);
  for (const auto& [name, t] : fused.named_buffers())
    if (name.find("running") != std::string::npos) uniform_(t, 0.5, 1.5, stats);
  for (std::size_t i = 0; i < fused.named_buffers().size(); ++i)
    chained.named_buffers()[i].second.copy_(fused.named_buffers()[i].second);
  for (const std::int64_t batch : {1, 2, 3}) {
    CAPTURE(batch);
    Generator data(10);
    Tensor x = Tensor::empty({batch, 5, 7, 6});
    uniform_(x, -1, 1, data);
    NoGradGuard no_grad;
    const Tensor y1 = fused.forward(x), y2 = chained_forward(chained, x, nullptr);
    REQUIRE(y1.shape() == Shape{batch, 17, 7, 6});
    CHECK(test::max_rel_diff(y1, y2) < 1e-5);
    CHECK(test::max_abs_diff(y1.slice(0, batch).reshape({batch * 17 * 42}).slice(0, 5 * 42),
                             x.reshape({batch * 5 * 42}).slice(0, 5 * 42)) == 0.0);
  }
}

namespace {
// Peak bytes allocated by one forward of a block of `num_layers` layers (growth 4, bottleneck 8,
// input [2, 8, 8, 8]), with or without recording the graph.
std::size_t forward_peak(int num_layers, bool record_graph) {
  Generator gen(5);
  layers::DenseBlock block(num_layers, 8, 2, 4, 0.0, gen);
  Tensor x = Tensor::empty({2, 8, 8, 8});
  uniform_(x, -1, 1, gen);
  Backend& be = x.backend();
  be.reset_peak_bytes();
  const std::size_t before = be.peak_bytes();
  std::optional<NoGradGuard> no_grad;
  if (!record_graph) no_grad.emplace();
  const Tensor y = block.forward(x);
  CHECK(y.shape() == Shape{2, 8 + 4 * num_layers, 8, 8});
  return be.peak_bytes() - before;
}
constexpr std::size_t kPlane = 2 * 8 * 8 * sizeof(float);  // one channel of the batch
}  // namespace

TEST_CASE("Without a graph the fused block keeps nothing per layer") {
  // 8 more layers add 32 channels to the buffer, the output and the scratch: 96 planes. Keeping
  // each layer's conv1 and BN2-ReLU outputs (16 planes) would add 128 more.
  CHECK(forward_peak(12, false) - forward_peak(4, false) <= (96 + 16) * kPlane);
}

TEST_CASE("With a graph the memory kept for backward grows linearly with depth") {
  // Equal increments for equal numbers of added layers. Keeping each layer's concatenated input
  // and BN1-ReLU output (2·c_l planes, as the unfused network does) would make the second
  // increment 2·4·16 = 128 planes larger than the first.
  const std::size_t p4 = forward_peak(4, true), p8 = forward_peak(8, true), p12 = forward_peak(12, true);
  const std::size_t first = p8 - p4, second = p12 - p8;
  CHECK(second <= first + 8 * kPlane);
  CHECK(first >= 4 * 16 * kPlane);  // the graph does keep each layer's 16 planes
}
