// The networks and GLER models gler_bench times, each at the input size it sees in the pipeline.
#include <memory>

#include "bench/model_bench.h"
#include "core/error.h"
#include "core/init.h"
#include "core/ops.h"
#include "layers/cross_entropy.h"
#include "models/checkpoint.h"
#include "models/densenet.h"
#include "models/gler/gler_model.h"
#include "models/mtcnn_nets.h"
#include "models/sphere20a.h"

namespace gler::bench {

const std::vector<std::string>& bench_models() {
  static const std::vector<std::string> names = {"densenet161", "densenet121", "sphere20a",   "pnet",
                                                  "rnet",        "onet",        "global",      "local",
                                                  "average",     "attention_a", "attention_b", "attention_c",
                                                  "attention_b_emotic", "attention_c_emotic"};
  return names;
}

namespace {

Tensor random_input(const Shape& shape, Device device, Generator& gen) {
  Tensor t = Tensor::empty(shape, DType::f32, device);
  uniform_(t, -1.0, 1.0, gen);
  return t;
}

// The network m on input x, timed through `output` (which of its outputs a loss would be computed
// from); a training step differentiates the sum of that output.
template <class M, class F>
void adopt(BenchNet& net, std::shared_ptr<M> m, const Shape& input, F output, Generator& gen) {
  m->to(net.device);
  const Tensor x = random_input(input, net.device, gen);
  net.forward = [m, x, output] { return output(*m, x); };
  net.loss = [](const Tensor& y) { return ops::sum_all(y); };
  net.module = std::move(m);
}

// --model spelling -> ModelInfo: the six archs, and attention_b/c_emotic.
bool gler_info(const std::string& arch, models::ModelInfo& info) {
  const std::string suffix = "_emotic";
  info.emotic = arch.ends_with(suffix);
  info.arch = info.emotic ? arch.substr(0, arch.size() - suffix.size()) : arch;
  for (const std::string& a : models::gler_archs())
    if (a == info.arch) return true;
  return false;
}

// A GLER model with every one of `faces` slots of `batch` images filled; a training step
// differentiates the cross-entropy of its logits against fixed labels.
void adopt_gler(BenchNet& net, models::ModelInfo info, std::int64_t batch, std::int64_t faces, Generator& gen) {
  info.max_faces = static_cast<int>(faces);
  std::shared_ptr<models::GlerModel> m = models::make_model(info, gen);
  m->to(net.device);
  const models::ModelShapes shapes;
  models::GlerInput in;
  if (info.uses_image()) in.images = random_input({batch, 3, shapes.image_size, shapes.image_size}, net.device, gen);
  if (info.uses_faces() || info.uses_face_features()) {
    in.face_counts = Tensor::full({batch}, static_cast<double>(faces), DType::i64);
    net.faces = faces;
  }
  if (info.uses_faces()) in.faces = random_input({batch, faces, 3, info.face_height(), info.face_width()}, net.device, gen);
  if (info.uses_face_features()) in.face_features = random_input({batch, faces, shapes.onet_dim}, net.device, gen);
  std::vector<std::int64_t> labels;
  for (std::int64_t b = 0; b < batch; ++b) labels.push_back(b % 3);
  const Tensor target = Tensor::from_vector(labels, {batch}).to(net.device);
  auto dropout = std::make_shared<Generator>(1);
  net.forward = [m, in, dropout] { return m->forward(in, dropout.get()).logits; };
  net.loss = [target](const Tensor& logits) { return layers::cross_entropy(logits, target); };
  net.flop = gler_model_flop(info, batch, faces);
  net.module = std::move(m);
}

}  // namespace

BenchNet make_bench_net(const std::string& arch, std::int64_t batch, std::int64_t faces, bool seed_layout,
                        Device device) {
  auto gen = std::make_shared<Generator>(0);
  BenchNet net;
  net.device = device;
  net.images = batch;
  models::ModelInfo info;
  info.seed_compat = seed_layout;
  if (arch == "densenet161" || arch == "densenet121") {
    const models::DenseNetConfig config = models::densenet_config(arch, 3);
    adopt(net, std::make_shared<models::DenseNet>(config, *gen), {batch, 3, 224, 224},
          [](const models::DenseNet& m, const Tensor& x) { return m.forward(x); }, *gen);
    net.flop = every_layer_trained(densenet_flop(config, batch, 224, false));
  } else if (arch == "sphere20a") {
    const Shape input = seed_layout ? Shape{faces, 3, 96, 112} : Shape{faces, 3, 112, 96};
    adopt(net, std::make_shared<models::Sphere20a>(*gen), input,
          [](models::Sphere20a& m, const Tensor& x) { return m.forward(x).logits; }, *gen);
    net.images = net.faces = faces;
    net.flop = every_layer_trained(sphere20a_flop(faces, input[2], input[3], 3));
  } else if (arch == "pnet") {  // the first pyramid level of a 640x480 photo (scale 12/20)
    adopt(net, std::make_shared<models::PNet>(*gen), {batch, 3, 288, 384},
          [](const models::PNet& m, const Tensor& x) { return m.forward(x).probs; }, *gen);
    net.flop = every_layer_trained(pnet_flop(batch, 288, 384));
  } else if (arch == "rnet") {
    adopt(net, std::make_shared<models::RNet>(*gen), {batch, 3, 24, 24},
          [](const models::RNet& m, const Tensor& x) { return m.forward(x).probs; }, *gen);
    net.flop = every_layer_trained(rnet_flop(batch));
  } else if (arch == "onet") {
    adopt(net, std::make_shared<models::ONet>(*gen), {batch, 3, 48, 48},
          [gen](const models::ONet& m, const Tensor& x) { return m.forward(x, gen.get()).probs; }, *gen);
    net.flop = every_layer_trained(onet_flop(batch));
  } else if (gler_info(arch, info)) {
    adopt_gler(net, info, batch, faces, *gen);
  } else {
    std::string known;
    for (const std::string& name : bench_models()) known += (known.empty() ? "" : ", ") + name;
    GLER_FAIL("unknown --model '" << arch << "' (expected one of " << known << ")");
  }
  return net;
}

void load_bench_weights(const BenchNet& net, const std::string& arch, const std::string& path) {
  const bool mtcnn_part = arch == "pnet" || arch == "rnet" || arch == "onet";
  models::load_weights(*net.module, path, mtcnn_part ? arch + "." : "");
}

}  // namespace gler::bench
