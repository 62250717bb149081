#include "models/sphere20a.h"

#include <string>

#include "core/error.h"
#include "core/ops.h"
#include "layers/conv_prelu.h"
#include "layers/flatten.h"

namespace gler::models {

namespace {

constexpr std::array<int, 4> kUnits = {1, 2, 4, 1};  // residual units per stage

// A 3×3 pad-1 convolution of stride s: (n + 2 - 3) / s + 1.
std::int64_t conv3x3_out(std::int64_t n, int stride) { return layers::conv2d_output_size(n, 3, stride, 1, 1); }

std::int64_t final_extent(std::int64_t n) {
  for (int s = 0; s < 4; ++s) n = conv3x3_out(n, 2);
  return n;
}

}  // namespace

Sphere20a::Sphere20a(Generator& gen, const Sphere20aOptions& options) : options_(options) {
  GLER_CHECK(options.feature_dim > 0 && options.input_height > 0 && options.input_width > 0,
             "sphere20a: feature_dim and the input size must be positive, got feature_dim "
                 << options.feature_dim << ", input " << options.input_height << "×" << options.input_width);
  std::int64_t in = 3;
  for (int s = 0; s < 4; ++s) {
    const std::int64_t out = options.widths[static_cast<std::size_t>(s)];
    GLER_CHECK(out > 0, "sphere20a: stage " << s + 1 << " width must be positive, got " << out);
    for (int j = 1; j <= 1 + 2 * kUnits[static_cast<std::size_t>(s)]; ++j) {
      const std::string id = std::to_string(s + 1) + "_" + std::to_string(j);
      const int stride = j == 1 ? 2 : 1;
      convs.push_back(std::make_unique<layers::Conv2d>(j == 1 ? in : out, out, 3, gen,
                                                       layers::Conv2dOptions{.stride = stride, .padding = 1}));
      relus.push_back(std::make_unique<layers::PReLU>(out));
      register_module("conv" + id, *convs.back());
      register_module("relu" + id, *relus.back());
    }
    in = out;
  }
  const std::int64_t fc5_in = in * final_extent(options.input_height) * final_extent(options.input_width);
  fc5 = std::make_unique<layers::Linear>(fc5_in, options.feature_dim, true, gen);
  register_module("fc5", *fc5);

  const std::int64_t d = options.feature_dim, classes = options.classes;
  GLER_CHECK(options.head == SphereHead::none || classes > 0,
             "sphere20a: fc6 needs at least one class, got " << classes);
  switch (options.head) {
    case SphereHead::none:
      break;
    case SphereHead::linear:
      fc6_linear = std::make_unique<layers::Linear>(d, classes, true, gen);
      if (options.linear_init == LinearInit::kaiming) {
        kaiming_normal_(fc6_linear->weight, gen);
        fc6_linear->bias.fill_(0.01);
      }
      register_module("fc6", *fc6_linear);
      break;
    case SphereHead::lsoftmax:
      fc6_lsoftmax = std::make_unique<layers::LSoftmaxLinear>(d, classes, gen, options.lsoftmax);
      register_module("fc6", *fc6_lsoftmax);
      break;
    case SphereHead::angle:
      fc6_angle = std::make_unique<layers::AngleLinear>(d, classes, gen, options.angle_margin);
      register_module("fc6", *fc6_angle);
      break;
  }
}

Tensor Sphere20a::features(const Tensor& x) const {
  GLER_CHECK(x.ndim() == 4 && x.size(1) == 3, "sphere20a needs images [B, 3, H, W], got " << describe(x));
  // Each conv-PReLU pair is one op (layers::conv2d_prelu): without a graph the CPU backend reads
  // the convolution's blocked output once, instead of reordering it to NCHW and reading it again.
  auto unit = [&](std::size_t i, const Tensor& in) { return layers::conv2d_prelu(*convs[i], *relus[i], nullptr, in); };
  Tensor h = x;
  std::size_t i = 0;
  for (int s = 0; s < 4; ++s) {
    h = unit(i++, h);
    for (int u = 0; u < kUnits[static_cast<std::size_t>(s)]; ++u, i += 2) h = ops::add(h, unit(i + 1, unit(i, h)));
  }
  GLER_CHECK(h.shape().prod(1, 4) == fc5_in_features(),
             "sphere20a: input " << x.shape().str() << " gives a final map " << h.shape().str() << " of "
                                 << h.shape().prod(1, 4) << " values, but fc5 takes " << fc5_in_features()
                                 << " (built for " << options_.input_height << "×" << options_.input_width << " or "
                                 << options_.input_width << "×" << options_.input_height << " inputs)");
  return fc5->forward(layers::flatten(h));
}

SphereOutput Sphere20a::forward(const Tensor& x, const Tensor& labels) {
  SphereOutput out;
  out.feature = features(x);
  if (fc6_linear) out.logits = fc6_linear->forward(out.feature);
  if (fc6_lsoftmax) out.logits = fc6_lsoftmax->forward(out.feature, labels);
  if (fc6_angle) out.angle = fc6_angle->forward(out.feature);
  return out;
}

}  // namespace gler::models
