#include "models/mtcnn_nets.h"

#include "core/error.h"
#include "core/ops.h"
#include "layers/conv_prelu.h"
#include "models/checkpoint.h"

namespace gler::models {

namespace {

// Max-pooling with PyTorch's ceil_mode=True, no padding.
layers::MaxPool2d ceil_pool(int kernel) { return layers::MaxPool2d(kernel, 2, 0, true); }

void check_input(const Tensor& x, const char* net, std::int64_t size) {
  GLER_CHECK(x.ndim() == 4 && x.size(1) == 3, net << " needs images [N, 3, H, W], got " << describe(x));
  GLER_CHECK(size == 0 || (x.size(2) == size && x.size(3) == size),
             net << " needs " << size << "×" << size << " crops, got " << x.shape().str());
}

}  // namespace

Tensor mtcnn_normalize(const Tensor& images) {
  GLER_CHECK(images.dtype() == DType::u8 && images.ndim() == 4 && images.size(3) == 3,
             "mtcnn_normalize needs u8 RGB images [N, H, W, 3], got " << describe(images));
  return ops::permute(ops::scale(ops::add_scalar(images.to(DType::f32), -127.5), 0.0078125), {0, 3, 1, 2});
}

PNet::Features::Features(Generator& gen, const PNetWidths& w)
    : conv1(3, w.conv1, 3, gen),
      prelu1(w.conv1),
      pool1(ceil_pool(2)),
      conv2(w.conv1, w.conv2, 3, gen),
      prelu2(w.conv2),
      conv3(w.conv2, w.conv3, 3, gen),
      prelu3(w.conv3) {
  register_module("conv1", conv1);
  register_module("prelu1", prelu1);
  register_module("pool1", pool1);
  register_module("conv2", conv2);
  register_module("prelu2", prelu2);
  register_module("conv3", conv3);
  register_module("prelu3", prelu3);
}

PNet::PNet(Generator& gen, const PNetWidths& widths)
    : features(gen, widths), conv4_1(widths.conv3, 2, 1, gen), conv4_2(widths.conv3, 4, 1, gen) {
  register_module("features", features);
  register_module("conv4_1", conv4_1);
  register_module("conv4_2", conv4_2);
}

PNetOutput PNet::forward(const Tensor& x) const {
  check_input(x, "P-Net", 0);
  GLER_CHECK(x.size(2) >= 12 && x.size(3) >= 12, "P-Net needs images of at least 12×12, got " << x.shape().str());
  const Features& f = features;
  Tensor h = layers::conv2d_prelu(f.conv1, f.prelu1, &f.pool1, x);
  h = layers::conv2d_prelu(f.conv3, f.prelu3, nullptr, layers::conv2d_prelu(f.conv2, f.prelu2, nullptr, h));
  return {ops::softmax(conv4_1.forward(h), 1), conv4_2.forward(h)};
}

RNet::Features::Features(Generator& gen, const RNetWidths& w)
    : conv1(3, w.conv1, 3, gen),
      prelu1(w.conv1),
      pool1(ceil_pool(3)),
      conv2(w.conv1, w.conv2, 3, gen),
      prelu2(w.conv2),
      pool2(ceil_pool(3)),
      conv3(w.conv2, w.conv3, 2, gen),
      prelu3(w.conv3),
      conv4(w.conv3 * 3 * 3, w.conv4, true, gen),
      prelu4(w.conv4) {
  register_module("conv1", conv1);
  register_module("prelu1", prelu1);
  register_module("pool1", pool1);
  register_module("conv2", conv2);
  register_module("prelu2", prelu2);
  register_module("pool2", pool2);
  register_module("conv3", conv3);
  register_module("prelu3", prelu3);
  register_module("flatten", flatten);
  register_module("conv4", conv4);
  register_module("prelu4", prelu4);
}

RNet::RNet(Generator& gen, const RNetWidths& widths)
    : features(gen, widths), conv5_1(widths.conv4, 2, true, gen), conv5_2(widths.conv4, 4, true, gen) {
  register_module("features", features);
  register_module("conv5_1", conv5_1);
  register_module("conv5_2", conv5_2);
}

RNetOutput RNet::forward(const Tensor& x) const {
  check_input(x, "R-Net", 24);
  const Features& f = features;
  Tensor h = layers::conv2d_prelu(f.conv1, f.prelu1, &f.pool1, x);  // 22 -> 11
  h = layers::conv2d_prelu(f.conv2, f.prelu2, &f.pool2, h);         // 9 -> 4
  h = f.prelu4.forward(f.conv4.forward(f.flatten.forward(layers::conv2d_prelu(f.conv3, f.prelu3, nullptr, h))));
  return {ops::softmax(conv5_1.forward(h), 1), conv5_2.forward(h)};
}

ONet::Features::Features(Generator& gen, const ONetWidths& w)
    : conv1(3, w.conv1, 3, gen),
      prelu1(w.conv1),
      pool1(ceil_pool(3)),
      conv2(w.conv1, w.conv2, 3, gen),
      prelu2(w.conv2),
      pool2(ceil_pool(3)),
      conv3(w.conv2, w.conv3, 3, gen),
      prelu3(w.conv3),
      pool3(ceil_pool(2)),
      conv4(w.conv3, w.conv4, 2, gen),
      prelu4(w.conv4),
      conv5(w.conv4 * 3 * 3, w.conv5, true, gen),
      prelu5(w.conv5) {
  register_module("conv1", conv1);
  register_module("prelu1", prelu1);
  register_module("pool1", pool1);
  register_module("conv2", conv2);
  register_module("prelu2", prelu2);
  register_module("pool2", pool2);
  register_module("conv3", conv3);
  register_module("prelu3", prelu3);
  register_module("pool3", pool3);
  register_module("conv4", conv4);
  register_module("prelu4", prelu4);
  register_module("flatten", flatten);
  register_module("conv5", conv5);
  register_module("drop5", drop5);
  register_module("prelu5", prelu5);
}

ONet::ONet(Generator& gen, const ONetWidths& widths)
    : features(gen, widths),
      conv6_1(widths.conv5, 2, true, gen),
      conv6_2(widths.conv5, 4, true, gen),
      conv6_3(widths.conv5, 10, true, gen) {
  register_module("features", features);
  register_module("conv6_1", conv6_1);
  register_module("conv6_2", conv6_2);
  register_module("conv6_3", conv6_3);
}

ONetOutput ONet::forward(const Tensor& x, Generator* dropout_gen) const {
  check_input(x, "O-Net", 48);
  const Features& f = features;
  Tensor h = layers::conv2d_prelu(f.conv1, f.prelu1, &f.pool1, x);  // 46 -> 23
  h = layers::conv2d_prelu(f.conv2, f.prelu2, &f.pool2, h);         // 21 -> 10
  h = layers::conv2d_prelu(f.conv3, f.prelu3, &f.pool3, h);         // 8 -> 4
  h = f.conv5.forward(f.flatten.forward(layers::conv2d_prelu(f.conv4, f.prelu4, nullptr, h)));
  if (f.drop5.is_training()) {
    GLER_CHECK(dropout_gen != nullptr, "O-Net in training mode needs a generator for its dropout");
    h = f.drop5.forward(h, *dropout_gen);
  }
  const Tensor feat = f.prelu5.forward(h);
  return {ops::softmax(conv6_1.forward(feat), 1), conv6_2.forward(feat), conv6_3.forward(feat), feat};
}

MtcnnNets::MtcnnNets(const std::string& weights_path) : pnet(init_), rnet(init_), onet(init_) {
  load_weights(pnet, weights_path, "pnet.");
  load_weights(rnet, weights_path, "rnet.");
  load_weights(onet, weights_path, "onet.");
  pnet.eval();
  rnet.eval();
  onet.eval();
}

}  // namespace gler::models
