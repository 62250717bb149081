#include "bench/flops.h"

#include "core/error.h"
#include "models/gler/model_shapes.h"

namespace gler::bench {

namespace {

double conv(std::int64_t n, std::int64_t cin, std::int64_t cout, std::int64_t k, std::int64_t out_h, std::int64_t out_w) {
  return 2.0 * static_cast<double>(n * cin * cout * k * k * out_h * out_w);
}
double linear(std::int64_t n, std::int64_t in, std::int64_t out) { return 2.0 * static_cast<double>(n * in * out); }

std::int64_t out_size(std::int64_t in, std::int64_t k, std::int64_t stride, std::int64_t pad) {
  return (in + 2 * pad - k) / stride + 1;
}
// MTCNN's max-pooling: stride 2, ceil_mode, no padding.
std::int64_t ceil_pool(std::int64_t in, std::int64_t k) { return (in - k + 1) / 2 + 1; }

}  // namespace

double densenet_flop(const models::DenseNetConfig& config, std::int64_t n, std::int64_t size, bool features_only) {
  std::int64_t s = out_size(size, 7, 2, 3);
  double f = conv(n, 3, config.num_init_features, 7, s, s);
  s = out_size(s, 3, 2, 1);
  std::int64_t c = config.num_init_features;
  const std::int64_t bottleneck = config.bn_size * config.growth_rate;
  for (std::size_t b = 0; b < config.block_config.size(); ++b) {
    for (int l = 0; l < config.block_config[b]; ++l, c += config.growth_rate)
      f += conv(n, c, bottleneck, 1, s, s) + conv(n, bottleneck, config.growth_rate, 3, s, s);
    if (b + 1 < config.block_config.size()) {  // transition: 1x1 to half the channels, 2x2 average pool
      f += conv(n, c, c / 2, 1, s, s);
      c /= 2;
      s /= 2;
    }
  }
  return features_only ? f : f + linear(n, c, config.num_classes);
}

double sphere20a_flop(std::int64_t n, std::int64_t height, std::int64_t width, std::int64_t classes) {
  const models::ModelShapes shapes;
  constexpr int kUnits[] = {1, 2, 4, 1};
  double f = 0;
  std::int64_t cin = 3;
  for (std::size_t s = 0; s < shapes.sphere_widths.size(); ++s) {
    const std::int64_t cout = shapes.sphere_widths[s];
    height = out_size(height, 3, 2, 1);
    width = out_size(width, 3, 2, 1);
    f += conv(n, cin, cout, 3, height, width) + 2 * kUnits[s] * conv(n, cout, cout, 3, height, width);
    cin = cout;
  }
  return f + linear(n, cin * height * width, shapes.sphere_feature_dim) + linear(n, shapes.sphere_feature_dim, classes);
}

double pnet_flop(std::int64_t n, std::int64_t height, std::int64_t width) {
  std::int64_t h = height - 2, w = width - 2;
  double f = conv(n, 3, 10, 3, h, w);
  h = ceil_pool(h, 2) - 2, w = ceil_pool(w, 2) - 2;
  f += conv(n, 10, 16, 3, h, w);
  h -= 2, w -= 2;
  return f + conv(n, 16, 32, 3, h, w) + conv(n, 32, 2 + 4, 1, h, w);
}

double rnet_flop(std::int64_t n) {
  return conv(n, 3, 28, 3, 22, 22) + conv(n, 28, 48, 3, 9, 9) + conv(n, 48, 64, 2, 3, 3) + linear(n, 576, 128) +
         linear(n, 128, 2 + 4);
}

double onet_flop(std::int64_t n) {
  return conv(n, 3, 32, 3, 46, 46) + conv(n, 32, 64, 3, 21, 21) + conv(n, 64, 64, 3, 8, 8) +
         conv(n, 64, 128, 2, 3, 3) + linear(n, 1152, 256) + linear(n, 256, 2 + 4 + 10);
}

FlopCount gler_model_flop(const models::ModelInfo& info, std::int64_t batch, std::int64_t faces) {
  info.check();
  const models::ModelShapes shapes;
  const std::int64_t n_faces = batch * faces, head = shapes.head_dim, att = shapes.attention_dim;
  const auto sphere = [&](std::int64_t classes) {
    return sphere20a_flop(n_faces, info.face_height(), info.face_width(), classes);
  };
  // The fusion models' image vector: the detached DenseNet feature through global_fc_main, or the
  // EmotiC DenseNet's own 2208 -> 256 classifier, trained end to end.
  const auto image_vector = [&] {
    const double features = densenet_flop(shapes.densenet, batch, shapes.image_size, true);
    const double fc = linear(batch, shapes.densenet.num_features(), head);
    return info.emotic ? FlopCount{features + fc, features + fc} : FlopCount{features + fc, fc};
  };
  // Layers that only compute attention scores: the seed detaches the attention weights, so in
  // seed_compat they get no gradient.
  const auto scores = [&](double f) { return FlopCount{f, info.seed_compat ? 0.0 : f}; };
  FlopCount c;
  if (info.arch == "global") {
    c = every_layer_trained(densenet_flop(shapes.densenet, batch, shapes.image_size, true) +
                            linear(batch, shapes.densenet.num_features(), 3));
  } else if (info.arch == "local") {
    c = every_layer_trained(sphere(3));
  } else if (info.arch == "average") {
    c.forward = densenet_flop(shapes.densenet, batch, shapes.image_size, true);
    c += every_layer_trained(linear(batch, shapes.onet_dim + shapes.densenet.num_features(), 3));
  } else if (info.arch == "attention_a") {
    c = image_vector();
    c += every_layer_trained(sphere(head) + linear(batch, 2 * head, 3));
  } else if (info.arch == "attention_b") {
    c = image_vector();
    c += every_layer_trained(sphere(att) + linear(batch, att + head, 3));
    c += scores(linear(batch, head, att));
  } else if (info.arch == "attention_c") {
    c = image_vector();
    c += every_layer_trained(sphere(head) + linear(batch, 2 * head, 3));
    c += scores(linear(n_faces, head, att) + linear(n_faces, att, 1));
  } else {
    GLER_FAIL("no FLOP count for arch '" << info.arch << "'");
  }
  return c;
}

}  // namespace gler::bench
