#include "models/face_expression.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/error.h"
#include "core/ops.h"
#include "io/resize_tfjs.h"
#include "layers/flatten.h"
#include "weights_import/arch_specs.h"
#include "weights_import/import_source.h"
#include "weights_import/tensor_data.h"

namespace gler::models {
namespace {

// FaceFeatureExtractor.forwardInput's mean, held by tf.fill as float32.
constexpr std::array<float, 3> kMeanRgb{122.782f, 117.001f, 104.298f};

// 'same' padding of one axis: {before, after}.
std::pair<std::int64_t, std::int64_t> same_padding(std::int64_t in, std::int64_t kernel, std::int64_t stride) {
  const std::int64_t out = (in + stride - 1) / stride;
  const std::int64_t total = std::max<std::int64_t>((out - 1) * stride + kernel - in, 0);
  return {total / 2, total - total / 2};
}

// Zeros appended after the input along `axis`.
Tensor pad_after(const Tensor& x, int axis, std::int64_t n) {
  if (n == 0) return x;
  Shape shape = x.shape();
  shape[static_cast<std::size_t>(axis)] = n;
  return ops::concat({x, Tensor::zeros(shape, x.dtype(), x.device())}, axis);
}

}  // namespace

const std::vector<std::string>& face_expression_labels() { return wi::face_expression_classes(); }

Tensor conv2d_same(const Tensor& x, const layers::Conv2d& conv) {
  GLER_CHECK(x.ndim() == 4, "conv2d_same expects [N, C, H, W], got " << describe(x));
  const auto [top, bottom] = same_padding(x.size(2), conv.weight.size(2), conv.args.stride_h);
  const auto [left, right] = same_padding(x.size(3), conv.weight.size(3), conv.args.stride_w);
  // The symmetric part is the convolution's own padding; what TF adds beyond it (one row or
  // column, after the input) is concatenated first.
  Conv2dArgs args = conv.args;
  args.pad_h = static_cast<int>(top);
  args.pad_w = static_cast<int>(left);
  return layers::conv2d(pad_after(pad_after(x, 2, bottom - top), 3, right - left), conv.weight, conv.bias, args);
}

SeparableConv2d::SeparableConv2d(std::int64_t in_channels, std::int64_t out_channels, int stride, Generator& gen)
    : depthwise(in_channels, in_channels, 3, gen,
                layers::Conv2dOptions{.stride = stride, .groups = static_cast<int>(in_channels), .bias = false}),
      pointwise(in_channels, out_channels, 1, gen) {
  register_module("depthwise", depthwise);
  register_module("pointwise", pointwise);
}

Tensor SeparableConv2d::forward(const Tensor& x) const { return pointwise.forward(conv2d_same(x, depthwise)); }

FaceExpressionBlock::FaceExpressionBlock(std::int64_t in_channels, std::int64_t out_channels, bool first,
                                         Generator& gen)
    : conv0_plain(first ? std::make_unique<layers::Conv2d>(in_channels, out_channels, 3, gen,
                                                           layers::Conv2dOptions{.stride = 2})
                        : nullptr),
      conv0_separable(first ? nullptr : std::make_unique<SeparableConv2d>(in_channels, out_channels, 2, gen)),
      conv1(out_channels, out_channels, 1, gen),
      conv2(out_channels, out_channels, 1, gen),
      conv3(out_channels, out_channels, 1, gen) {
  if (first) register_module("conv0", *conv0_plain);
  else register_module("conv0", *conv0_separable);
  register_module("conv1", conv1);
  register_module("conv2", conv2);
  register_module("conv3", conv3);
}

Tensor FaceExpressionBlock::forward(const Tensor& x) const {
  const Tensor out1 = ops::relu(conv0_plain ? conv2d_same(x, *conv0_plain) : conv0_separable->forward(x));
  const Tensor out2 = conv1.forward(out1);
  const Tensor out3 = conv2.forward(ops::relu(ops::add(out1, out2)));
  const Tensor out4 = conv3.forward(ops::relu(ops::add(out1, ops::add(out2, out3))));
  return ops::relu(ops::add(out1, ops::add(out2, ops::add(out3, out4))));
}

FaceExpressionNet::FaceExpressionNet(Generator& gen, std::array<std::int64_t, 4> widths, std::int64_t classes)
    : pool(7, 2), fc(widths[3], classes, true, gen) {
  std::int64_t in = 3;
  for (std::size_t b = 0; b < widths.size(); ++b) {
    GLER_CHECK(widths[b] > 0, "FaceExpressionNet: block widths must be positive, got " << widths[b]);
    blocks.push_back(std::make_unique<FaceExpressionBlock>(in, widths[b], b == 0, gen));
    register_module("dense" + std::to_string(b), *blocks.back());
    in = widths[b];
  }
  register_module("fc", fc);
}

Tensor FaceExpressionNet::forward(const Tensor& x) const {
  GLER_CHECK(x.ndim() == 4 && x.size(1) == 3 && x.size(2) == kFaceExpressionInputSize &&
                 x.size(3) == kFaceExpressionInputSize,
             "FaceExpressionNet expects faces [N, 3, 112, 112], got " << describe(x));
  Tensor y = x;
  for (const auto& block : blocks) y = block->forward(y);
  return fc.forward(layers::flatten(pool.forward(y)));
}

Tensor FaceExpressionNet::probabilities(const Tensor& x) const { return ops::softmax(forward(x), 1); }

std::unique_ptr<FaceExpressionNet> load_face_expression_net(const std::string& path) {
  const wi::StateDict sd = wi::import_checkpoint(path, "");
  const std::string& arch = sd.metadata.at("arch");
  GLER_CHECK(arch == "face_expression", path << " holds arch " << arch << ", not face_expression");
  Generator gen(0);
  auto net = std::make_unique<FaceExpressionNet>(gen);
  NamedTensors values;
  for (const auto& [name, data] : sd.entries) values.emplace_back(name, wi::to_tensor(data));
  try {
    net->load_state_dict(values);
  } catch (const Error& e) {
    GLER_FAIL(path << ": " << e.what());
  }
  net->eval();
  return net;
}

FaceBox face_box_from_mtcnn(const std::array<double, 4>& box) {
  return {box[0], box[1], box[2] - box[0] + 1, box[3] - box[1] + 1};
}

CropRect face_api_crop(const FaceBox& box, int image_width, int image_height) {
  const bool finite =
      std::isfinite(box.x) && std::isfinite(box.y) && std::isfinite(box.width) && std::isfinite(box.height);
  const double x = std::max(box.x, 0.0), y = std::max(box.y, 0.0);
  const double width = std::floor(std::min(box.x + box.width - x, image_width - x));
  const double height = std::floor(std::min(box.y + box.height - y, image_height - y));
  GLER_CHECK(finite && width >= 1 && height >= 1,
             "face box (x " << box.x << ", y " << box.y << ", width " << box.width << ", height " << box.height
                            << ") holds no pixel of the " << image_width << "x" << image_height << " image");
  // width >= 1 puts x (and y) inside the image, so every value fits an int.
  return {static_cast<int>(std::floor(x)), static_cast<int>(std::floor(y)), static_cast<int>(width),
          static_cast<int>(height)};
}

Tensor face_expression_input(const io::Image& rgb, const FaceBox& box) {
  GLER_CHECK(rgb.channels == 3, "face_expression_input expects an RGB image, got " << rgb.channels << " channels");
  const CropRect crop = face_api_crop(box, rgb.width, rgb.height);
  // padToSquare(centred): the face at (left, top) of a side x side square of zeros.
  const int side = std::max(crop.width, crop.height), diff = side - std::min(crop.width, crop.height);
  const int after = static_cast<int>(std::floor(diff * 0.5 + 0.5));
  const int left = crop.width < crop.height ? diff - after : 0, top = crop.height < crop.width ? diff - after : 0;
  std::vector<float> square(static_cast<std::size_t>(side) * side * 3, 0.0f);
  for (int y = 0; y < crop.height; ++y) {
    const std::uint8_t* src = rgb.row(crop.y + y) + static_cast<std::size_t>(crop.x) * 3;
    float* dst = square.data() + (static_cast<std::size_t>(top + y) * side + left) * 3;
    for (int i = 0; i < crop.width * 3; ++i) dst[i] = src[i];
  }
  constexpr int n = kFaceExpressionInputSize;
  const std::vector<float> resized =
      side == n ? std::move(square) : io::resize_bilinear_tfjs(square.data(), side, side, 3, n, n);
  Tensor out = Tensor::empty({3, n, n});
  float* dst = out.host_data<float>();
  const std::size_t plane = static_cast<std::size_t>(n) * n;
  for (int c = 0; c < 3; ++c)
    for (std::size_t i = 0; i < plane; ++i) dst[c * plane + i] = (resized[3 * i + c] - kMeanRgb[c]) / 255.0f;
  return out;
}

}  // namespace gler::models
