// The networks gler_bench times, each at the input size it sees in the pipeline.
#include <memory>

#include "bench/model_bench.h"
#include "core/error.h"
#include "core/init.h"
#include "models/checkpoint.h"
#include "models/densenet.h"
#include "models/mtcnn_nets.h"
#include "models/sphere20a.h"

namespace gler::bench {

const std::vector<std::string>& bench_models() {
  static const std::vector<std::string> names = {"densenet161", "densenet121", "sphere20a", "pnet", "rnet", "onet"};
  return names;
}

namespace {

// The network m, timed through `output` (which of its outputs a loss would be computed from).
template <class M, class F>
void adopt(BenchNet& net, std::shared_ptr<M> m, F output) {
  net.forward = [m, output](const Tensor& x) { return output(*m, x); };
  net.module = std::move(m);
}

}  // namespace

BenchNet make_bench_net(const std::string& arch, std::int64_t batch, std::int64_t faces, bool seed_layout,
                        Device device) {
  auto gen = std::make_shared<Generator>(0);
  BenchNet net;
  Shape input;
  if (arch == "densenet161" || arch == "densenet121") {
    adopt(net, std::make_shared<models::DenseNet>(models::densenet_config(arch, 3), *gen),
          [](const models::DenseNet& m, const Tensor& x) { return m.forward(x); });
    input = {batch, 3, 224, 224};
  } else if (arch == "sphere20a") {
    adopt(net, std::make_shared<models::Sphere20a>(*gen),
          [](models::Sphere20a& m, const Tensor& x) { return m.forward(x).logits; });
    batch = faces;
    input = seed_layout ? Shape{batch, 3, 96, 112} : Shape{batch, 3, 112, 96};
  } else if (arch == "pnet") {  // the first pyramid level of a 640x480 photo (scale 12/20)
    adopt(net, std::make_shared<models::PNet>(*gen), [](const models::PNet& m, const Tensor& x) { return m.forward(x).probs; });
    input = {batch, 3, 288, 384};
  } else if (arch == "rnet") {
    adopt(net, std::make_shared<models::RNet>(*gen), [](const models::RNet& m, const Tensor& x) { return m.forward(x).probs; });
    input = {batch, 3, 24, 24};
  } else if (arch == "onet") {
    adopt(net, std::make_shared<models::ONet>(*gen),
          [gen](const models::ONet& m, const Tensor& x) { return m.forward(x, gen.get()).probs; });
    input = {batch, 3, 48, 48};
  } else {
    std::string known;
    for (const std::string& name : bench_models()) known += (known.empty() ? "" : ", ") + name;
    GLER_FAIL("unknown --model '" << arch << "' (expected one of " << known << ")");
  }
  net.module->to(device);
  net.images = batch;
  net.input = Tensor::empty(input, DType::f32, device);
  uniform_(net.input, -1.0, 1.0, *gen);
  return net;
}

void load_bench_weights(const BenchNet& net, const std::string& arch, const std::string& path) {
  const bool mtcnn_part = arch == "pnet" || arch == "rnet" || arch == "onet";
  models::load_weights(*net.module, path, mtcnn_part ? arch + "." : "");
}

}  // namespace gler::bench
