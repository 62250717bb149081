// Gradient checks of the MTCNN nets as a whole (ceil-mode pooling with partial windows, the
// H/W-swapping flatten, softmax heads, O-Net's dropout in training), on narrow nets of the real
// structure and input sizes: all outputs at once, for the input and every parameter.
#include <memory>

#include "core/ops.h"
#include "models/mtcnn_nets.h"
#include "tests/gradcheck/gradcheck.h"

namespace gler::gradcheck {
namespace {

std::vector<Tensor> with_parameters(Tensor x, const Module& m) {
  std::vector<Tensor> inputs{std::move(x)};
  for (const Tensor& p : m.parameters()) inputs.push_back(p);
  return inputs;
}

Tensor flat(const std::vector<Tensor>& parts) {
  std::vector<Tensor> flats;
  for (const Tensor& t : parts) flats.push_back(t.reshape({t.numel()}));
  return ops::concat(flats, 0);
}

GLER_GRADCHECK("models/mtcnn pnet narrow 14x15") {
  Generator init(1);
  auto net = std::make_shared<models::PNet>(init, models::PNetWidths{2, 3, 4});
  net->to(DType::f64);
  return check(
      [net](const std::vector<Tensor>& in) {
        const models::PNetOutput out = net->forward(in[0]);
        return flat({out.probs, out.offsets});
      },
      with_parameters(random_input({1, 3, 14, 15}, 1), *net));
}

GLER_GRADCHECK("models/mtcnn rnet narrow") {
  Generator init(2);
  auto net = std::make_shared<models::RNet>(init, models::RNetWidths{2, 3, 3, 4});
  net->to(DType::f64);
  return check(
      [net](const std::vector<Tensor>& in) {
        const models::RNetOutput out = net->forward(in[0]);
        return flat({out.probs, out.offsets});
      },
      with_parameters(random_input({2, 3, 24, 24}, 2), *net));
}

Result onet_case(bool training) {
  Generator init(3);
  auto net = std::make_shared<models::ONet>(init, models::ONetWidths{2, 2, 3, 3, 4});
  net->to(DType::f64);
  net->train(training);
  return check(
      [net](const std::vector<Tensor>& in) {
        Generator drop(17);
        const models::ONetOutput out = net->forward(in[0], &drop);
        return flat({out.probs, out.offsets, out.landmarks, out.features});
      },
      with_parameters(random_input({1, 3, 48, 48}, 3), *net));
}

GLER_GRADCHECK("models/mtcnn onet narrow eval") { return onet_case(false); }
GLER_GRADCHECK("models/mtcnn onet narrow train dropout") { return onet_case(true); }

}  // namespace
}  // namespace gler::gradcheck
