// Gradient checks of the DenseNet composites: the fused dense block (its hand-written backward
// through the channel-major buffer), the plain dense layer and the transition, for the input and
// every parameter, in train and eval mode, with dropout, batch 1 and odd spatial sizes.
#include <string>

#include "layers/dense_block.h"
#include "tests/gradcheck/gradcheck.h"

namespace gler::gradcheck {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// f64, and non-trivial BN affine parameters and running statistics.
void prepare(Module& m, bool training) {
  m.to(DType::f64);
  std::uint64_t seed = 100;
  for (const auto& [name, t] : m.state_dict()) {
    const bool norm = name.find("norm") != std::string::npos;
    if (ends_with(name, "running_var"))
      t.copy_(random_input(t.shape(), seed++, 0.5, 2.0));
    else if (ends_with(name, "running_mean") || (norm && ends_with(name, ".bias")))
      t.copy_(random_input(t.shape(), seed++, -0.5, 0.5));
    else if (norm && ends_with(name, ".weight"))
      t.copy_(random_input(t.shape(), seed++, 0.5, 1.5));
  }
  m.train(training);
}

std::vector<Tensor> with_parameters(Tensor x, const Module& m) {
  std::vector<Tensor> inputs{std::move(x)};
  for (const Tensor& p : m.parameters()) inputs.push_back(p);
  return inputs;
}

Result block_case(const Shape& x_shape, bool training, double drop_rate) {
  Generator init(5);
  auto block = std::make_shared<layers::DenseBlock>(3, x_shape[1], 2, 2, drop_rate, init);
  prepare(*block, training);
  return check(
      [block](const std::vector<Tensor>& in) {
        Generator gen(17);
        return block->forward(in[0], &gen);
      },
      with_parameters(random_input(x_shape, 1), *block));
}

GLER_GRADCHECK("layers/dense_block train") { return block_case({2, 3, 4, 5}, true, 0.0); }
GLER_GRADCHECK("layers/dense_block eval") { return block_case({2, 3, 4, 5}, false, 0.0); }
GLER_GRADCHECK("layers/dense_block train dropout") { return block_case({2, 3, 3, 3}, true, 0.4); }
GLER_GRADCHECK("layers/dense_block train batch1 odd") { return block_case({1, 2, 3, 5}, true, 0.0); }
GLER_GRADCHECK("layers/dense_block eval batch1 1x1") { return block_case({1, 3, 1, 1}, false, 0.0); }

Result layer_case(bool training, double drop_rate) {
  Generator init(6);
  auto layer = std::make_shared<layers::DenseLayer>(3, 2, 2, drop_rate, init);
  prepare(*layer, training);
  return check(
      [layer](const std::vector<Tensor>& in) {
        Generator gen(17);
        return layer->forward(in[0], &gen);
      },
      with_parameters(random_input({2, 3, 3, 5}, 1), *layer));
}

GLER_GRADCHECK("layers/dense_layer train") { return layer_case(true, 0.0); }
GLER_GRADCHECK("layers/dense_layer eval") { return layer_case(false, 0.0); }
GLER_GRADCHECK("layers/dense_layer train dropout") { return layer_case(true, 0.3); }

Result transition_case(const Shape& x_shape, bool training) {
  Generator init(7);
  auto transition = std::make_shared<layers::Transition>(x_shape[1], 3, init);
  prepare(*transition, training);
  return check([transition](const std::vector<Tensor>& in) { return transition->forward(in[0]); },
               with_parameters(random_input(x_shape, 1), *transition));
}

GLER_GRADCHECK("layers/transition train odd") { return transition_case({2, 4, 5, 5}, true); }
GLER_GRADCHECK("layers/transition eval") { return transition_case({2, 4, 4, 6}, false); }

}  // namespace
}  // namespace gler::gradcheck
