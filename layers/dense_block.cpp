#include "layers/dense_block.h"

#include <string>

#include "core/autograd.h"
#include "core/backend.h"
#include "core/ops.h"
#include "layers/dropout.h"

namespace gler::layers {

DenseLayer::DenseLayer(std::int64_t in_channels, std::int64_t growth_rate, std::int64_t bn_size, double drop_rate_,
                       Generator& gen)
    : norm1(in_channels),
      conv1(in_channels, bn_size * growth_rate, 1, gen, Conv2dOptions{.bias = false}),
      norm2(bn_size * growth_rate),
      conv2(bn_size * growth_rate, growth_rate, 3, gen, Conv2dOptions{.padding = 1, .bias = false}),
      drop_rate(drop_rate_) {
  register_module("norm1", norm1);
  register_module("relu1", relu1);
  register_module("conv1", conv1);
  register_module("norm2", norm2);
  register_module("relu2", relu2);
  register_module("conv2", conv2);
}

Tensor DenseLayer::forward(const Tensor& x, Generator* gen) const {
  const Tensor bottleneck = conv1.forward(relu1.forward(norm1.forward(x)));
  Tensor y = conv2.forward(relu2.forward(norm2.forward(bottleneck)));
  if (drop_rate > 0 && is_training()) {
    GLER_CHECK(gen != nullptr, "DenseLayer with drop_rate " << drop_rate << " needs a generator in training");
    y = dropout(y, drop_rate, true, *gen);
  }
  return y;
}

// ---- the fused, memory-efficient dense block (see dense_block.h) --------------------------------

namespace {

struct Geometry {
  std::int64_t n, h, w, hw, nhw;  // nhw: the columns of the channel-major block
  std::int64_t in_channels, growth, bottleneck;
  std::int64_t layer_input(std::size_t l) const { return in_channels + static_cast<std::int64_t>(l) * growth; }
};

// What one layer keeps for backward. The BN1-ReLU output is not kept: it is recomputed.
struct LayerSaved {
  BatchNormSaved bn1, bn2;
  Tensor z1;    // conv1 output, channel-major [bottleneck, N·H·W]
  Tensor a2;    // relu2 output = conv2 input, [N, bottleneck, H, W]
  Tensor mask;  // scaled dropout mask, or undefined
  Tensor w1, w2;
  Conv2dArgs conv2_args;
};

// in viewed as [a, b, s] -> out viewed as [b, a, s]: NCHW <-> channel-major.
void swap01(const Tensor& in, std::int64_t a, std::int64_t b, std::int64_t s, const Tensor& out) {
  static const int perm[3] = {1, 0, 2};
  Tensor dst = out.reshape({b, a, s});
  in.backend().permute(in.reshape({a, b, s}), perm, dst);
}

// Appends layer l's features to the block; `scratch` holds the BN1-ReLU output. Each BN-ReLU pair
// is one pass (the BatchNorm kernel's fused ReLU), not a normalisation and a ReLU over its output.
LayerSaved layer_forward(const DenseLayer& layer, const Geometry& g, std::size_t l, const Tensor& block,
                         const Tensor& scratch, Generator* gen) {
  const std::int64_t c = g.layer_input(l), k = g.bottleneck;
  Backend& be = block.backend();
  LayerSaved s;
  s.w1 = layer.conv1.weight.detach();
  s.w2 = layer.conv2.weight.detach();
  s.conv2_args = layer.conv2.args;
  // The layer's input is the block's first c channels: a contiguous prefix, no concatenation.
  Tensor a1 = scratch.slice(0, c).reshape({1, c, g.nhw});
  s.bn1 = layer.norm1.normalize(block.slice(0, c).reshape({1, c, g.nhw}), true, a1);
  s.z1 = ops::matmul(s.w1.reshape({k, c}), a1.reshape({c, g.nhw}));
  Tensor a2 = Tensor::empty({1, k, g.nhw}, block.dtype(), block.device());
  s.bn2 = layer.norm2.normalize(s.z1.reshape({1, k, g.nhw}), true, a2);
  // At batch 1 the channel-major [C, 1·H·W] and NCHW [1, C, H, W] layouts are the same memory:
  // views replace the swaps, and conv2 writes straight into the block.
  const Tensor features = block.slice(c, c + g.growth);
  if (g.n == 1) {
    s.a2 = a2.reshape({1, k, g.h, g.w});
  } else {
    s.a2 = Tensor::empty({g.n, k, g.h, g.w}, block.dtype(), block.device());
    swap01(a2, k, g.n, g.hw, s.a2);
  }
  Tensor z2 = g.n == 1 ? features.reshape({1, g.growth, g.h, g.w})
                       : Tensor::empty({g.n, g.growth, g.h, g.w}, block.dtype(), block.device());
  be.conv2d_forward(s.conv2_args, s.a2, s.w2, nullptr, z2);
  if (layer.drop_rate > 0 && layer.is_training()) {
    GLER_CHECK(gen != nullptr, "DenseBlock with drop_rate " << layer.drop_rate << " needs a generator in training");
    // The same draws as dropout(z2): ones through dropout give the scaled mask.
    s.mask = dropout(Tensor::full(z2.shape(), 1.0, z2.dtype(), z2.device()), layer.drop_rate, true, *gen);
    be.binary(BinaryOp::mul, z2, s.mask, z2);
  }
  if (g.n > 1) swap01(z2, g.n, g.growth, g.hw, features);
  return s;
}

// Backward of layer l: reads its features' gradient from gblock and adds its input's gradient to
// gblock's prefix. grads: norm1.weight, norm1.bias, conv1.weight, norm2.weight, norm2.bias, conv2.weight.
void layer_backward(const LayerSaved& s, const Geometry& g, std::size_t l, const Tensor& block,
                    const Tensor& scratch, const Tensor& gblock, Tensor* grads) {
  const std::int64_t c = g.layer_input(l), k = g.bottleneck;
  Backend& be = block.backend();
  Tensor gz2 = Tensor::empty({g.n, g.growth, g.h, g.w}, block.dtype(), block.device());
  swap01(gblock.slice(c, c + g.growth), g.growth, g.n, g.hw, gz2);
  if (s.mask.defined()) be.binary(BinaryOp::mul, gz2, s.mask, gz2);

  grads[5] = Tensor::empty(s.w2.shape(), block.dtype(), block.device());
  be.conv2d_backward_filter(s.conv2_args, s.a2, gz2, grads[5], nullptr);
  Tensor ga2 = Tensor::empty(s.a2.shape(), block.dtype(), block.device());
  be.conv2d_backward_data(s.conv2_args, gz2, s.w2, ga2);
  be.unary_backward(UnaryOp::relu, s.a2, s.a2, ga2, 0.0, ga2);
  Tensor ga2_cm = Tensor::empty({1, k, g.nhw}, block.dtype(), block.device());
  swap01(ga2, g.n, k, g.hw, ga2_cm);
  const BatchNormGrads bn2 = batch_norm_backward(s.bn2, s.z1.reshape({1, k, g.nhw}), ga2_cm);
  grads[3] = bn2.weight;
  grads[4] = bn2.bias;

  const Tensor in = block.slice(0, c).reshape({1, c, g.nhw});
  Tensor a1 = scratch.slice(0, c).reshape({1, c, g.nhw});
  batch_norm_reforward(s.bn1, in, a1);
  const Tensor gz1 = bn2.x.reshape({k, g.nhw});
  grads[2] = ops::matmul(gz1, a1.reshape({c, g.nhw}), false, true).reshape(s.w1.shape());
  Tensor ga1 = ops::matmul(s.w1.reshape({k, c}), gz1, true, false);
  be.unary_backward(UnaryOp::relu, a1, a1, ga1, 0.0, ga1);
  const BatchNormGrads bn1 = batch_norm_backward(s.bn1, in, ga1.reshape({1, c, g.nhw}));
  grads[0] = bn1.weight;
  grads[1] = bn1.bias;
  Tensor prefix = gblock.slice(0, c);
  be.binary(BinaryOp::add, prefix, bn1.x, prefix);
}

}  // namespace

DenseBlock::DenseBlock(int num_layers, std::int64_t in_channels_, std::int64_t bn_size, std::int64_t growth_rate_,
                       double drop_rate, Generator& gen)
    : in_channels(in_channels_), growth_rate(growth_rate_) {
  GLER_CHECK(num_layers > 0, "DenseBlock needs at least one layer, got " << num_layers);
  for (int i = 0; i < num_layers; ++i) {
    layers.push_back(
        std::make_unique<DenseLayer>(in_channels + i * growth_rate, growth_rate, bn_size, drop_rate, gen));
    register_module("denselayer" + std::to_string(i + 1), *layers.back());
  }
}

Tensor DenseBlock::forward(const Tensor& x, Generator* gen) const {
  GLER_CHECK(x.ndim() == 4 && x.size(1) == in_channels && is_floating(x.dtype()),
             "DenseBlock expects a floating input [N, " << in_channels << ", H, W], got " << describe(x));
  // The block calls backend kernels on every layer's tensors directly: check them all first, so a
  // parameter left on another device or in another dtype is named instead of dereferenced.
  for (const auto& [name, t] : state_dict())
    check_operand(t, "DenseBlock", name.c_str(), x.device(), is_floating(t.dtype()) ? x.dtype() : t.dtype());
  const std::size_t count = layers.size();
  Geometry g{x.size(0), x.size(2), x.size(3), x.size(2) * x.size(3), x.size(0) * x.size(2) * x.size(3),
             in_channels, growth_rate, layers[0]->conv1.weight.size(0)};
  GLER_CHECK(!is_training() || g.nhw > 1,
             "Expected more than 1 value per channel when training, got input size " << x.shape().str());
  const std::int64_t channels = g.layer_input(count);

  std::vector<Tensor> inputs{x};
  for (const auto& layer : layers)
    for (const Tensor& p : layer->parameters()) inputs.push_back(p);
  const bool keep = needs_graph(inputs);

  Tensor block = Tensor::empty({channels, g.nhw}, x.dtype(), x.device());
  std::vector<LayerSaved> saved;
  {
    NoGradGuard no_grad;
    Tensor scratch = Tensor::empty({g.layer_input(count - 1), g.nhw}, x.dtype(), x.device());
    swap01(x.detach(), g.n, g.in_channels, g.hw, block.slice(0, g.in_channels));
    for (std::size_t l = 0; l < count; ++l) {
      LayerSaved s = layer_forward(*layers[l], g, l, block, scratch, gen);
      if (keep) saved.push_back(std::move(s));
    }
  }
  // Without a graph, a batch-1 output is the block itself (the same memory, see layer_forward);
  // with one, y is a copy, since writes to y must not reach the block that backward reads.
  if (!keep && g.n == 1) return block.reshape({1, channels, g.h, g.w});
  Tensor y = Tensor::empty({g.n, channels, g.h, g.w}, x.dtype(), x.device());
  swap01(block, channels, g.n, g.hw, y);
  if (!keep) return y;
  return record(y, "dense_block", inputs, [g, block, saved = std::move(saved), need_x = x.requires_grad()](const Tensor& gy) {
    const std::size_t count = saved.size();
    const std::int64_t channels = g.layer_input(count);
    Tensor gblock = Tensor::empty({channels, g.nhw}, gy.dtype(), gy.device());
    swap01(gy, g.n, channels, g.hw, gblock);
    Tensor scratch = Tensor::empty({g.layer_input(count - 1), g.nhw}, gy.dtype(), gy.device());
    std::vector<Tensor> grads(1 + 6 * count);
    for (std::size_t l = count; l-- > 0;) layer_backward(saved[l], g, l, block, scratch, gblock, &grads[1 + 6 * l]);
    if (need_x) {
      grads[0] = Tensor::empty({g.n, g.in_channels, g.h, g.w}, gy.dtype(), gy.device());
      swap01(gblock.slice(0, g.in_channels), g.in_channels, g.n, g.hw, grads[0]);
    }
    return grads;
  });
}

Transition::Transition(std::int64_t in_channels, std::int64_t out_channels, Generator& gen)
    : norm(in_channels), conv(in_channels, out_channels, 1, gen, Conv2dOptions{.bias = false}), pool(2, 2) {
  register_module("norm", norm);
  register_module("relu", relu);
  register_module("conv", conv);
  register_module("pool", pool);
}

}  // namespace gler::layers
