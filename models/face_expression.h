// face-api's face-expression network (FaceExpressionNet of @vladmandic/face-api 1.7.15, after
// justadudewhohacks/face-api.js) on gler's layers, with the input face-api prepares for it, so that
// its published weights (face_expression_model, TF.js format; scripts/fetch_face_expression.sh
// fetches and converts them) give face-api's probabilities.
//
// The network (src/faceFeatureExtractor, src/faceExpressionNet): four dense blocks (denseBlock4) of
// widths 32, 64, 128, 256, each halving the resolution, then tf.avgPool 7x7 stride 2 'valid' (a
// mean over the 7x7 map a 112x112 input leaves), then fc 256 -> 7 logits; face-api reports their
// softmax. A block: out1 = relu(conv0(x)) (stride 2), out2 = conv1(out1), out3 = conv2(relu(out1 +
// out2)), out4 = conv3(relu(out1 + out2 + out3)), result relu(out1 + out2 + out3 + out4); conv1-3
// have stride 1 and no ReLU of their own. dense0's conv0 is a plain 3x3 conv with bias; every other
// conv is tf.separableConv2d (3x3 depthwise, then 1x1 pointwise, then the bias). All pad as
// TensorFlow's 'same' does: for stride 2 on an even size the one padding row/column goes after
// the input (bottom/right), not before it as a PyTorch padding would put it.
//
// Parameter names are those gler_import writes for a TF.js manifest (weights_import/tfjs_manifest.h):
// dense<b>.conv0.weight/bias (b = 0), dense<b>.conv<k>.depthwise.weight, .pointwise.weight,
// .pointwise.bias, fc.weight/bias. Inference: run under a NoGradGuard.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/init.h"
#include "core/module.h"
#include "io/image.h"
#include "layers/conv2d.h"
#include "layers/linear.h"
#include "layers/pool2d.h"

namespace gler::models {

constexpr int kFaceExpressionInputSize = 112;

// neutral happy sad angry fearful disgusted surprised: the logits' order.
const std::vector<std::string>& face_expression_labels();

// conv2d with TensorFlow's 'same' padding for `conv`'s stride and kernel: out = ceil(in / stride),
// total padding max((out − 1)·stride + kernel − in, 0), the smaller half before the input. Its own
// args' padding is ignored.
Tensor conv2d_same(const Tensor& x, const layers::Conv2d& conv);

// tf.separableConv2d(x, depthwise, pointwise, stride, 'same') + bias: a depthwise 3x3 conv (one
// filter per input channel, no bias), then a 1x1 conv carrying the bias.
class SeparableConv2d : public Module {
 public:
  SeparableConv2d(std::int64_t in_channels, std::int64_t out_channels, int stride, Generator& gen);
  Tensor forward(const Tensor& x) const;

  layers::Conv2d depthwise, pointwise;
};

// face-api's denseBlock4 (isScaleDown: conv0 has stride 2).
class FaceExpressionBlock : public Module {
 public:
  // first: conv0 is a plain 3x3 conv (face-api's isFirstLayer, dense0), else a separable one.
  FaceExpressionBlock(std::int64_t in_channels, std::int64_t out_channels, bool first, Generator& gen);
  Tensor forward(const Tensor& x) const;

  std::unique_ptr<layers::Conv2d> conv0_plain;        // first block: registered as "conv0"
  std::unique_ptr<SeparableConv2d> conv0_separable;   // other blocks: registered as "conv0"
  SeparableConv2d conv1, conv2, conv3;
};

class FaceExpressionNet : public Module {
 public:
  // widths: the four blocks' channels (face-api's 32, 64, 128, 256; narrower for gradient checks).
  // PyTorch's default initialisation, drawn from `gen`: load weights before using it.
  explicit FaceExpressionNet(Generator& gen, std::array<std::int64_t, 4> widths = {32, 64, 128, 256},
                             std::int64_t classes = 7);

  // x [N, 3, 112, 112] (face_expression_input's values) -> logits [N, classes].
  Tensor forward(const Tensor& x) const;
  // softmax(forward(x)) over the classes, what face-api's predictExpressions reports.
  Tensor probabilities(const Tensor& x) const;

  std::vector<std::unique_ptr<FaceExpressionBlock>> blocks;  // dense0..dense3
  layers::AvgPool2d pool;
  layers::Linear fc;
};

// A network with the weights of `path` (a safetensors file gler_import wrote, arch face_expression,
// or a TF.js manifest); throws when the file is another architecture's.
std::unique_ptr<FaceExpressionNet> load_face_expression_net(const std::string& path);

// face-api's Rect: the top-left corner and the size, in pixels (fractions allowed).
struct FaceBox {
  double x = 0, y = 0, width = 0, height = 0;
};

// An MTCNN box [x1, y1, x2, y2] with x2/y2 inclusive (models/faces/face.h) as a FaceBox.
FaceBox face_box_from_mtcnn(const std::array<double, 4>& box);

// The pixels face-api crops for `box` (extractFaceTensors, Box.clipAtImageBorders): the box clipped
// to the image, then each of x, y, width and height floored on its own. Throws when that leaves no
// pixel (face-api drops such a box).
struct CropRect {
  int x = 0, y = 0, width = 0, height = 0;
};
CropRect face_api_crop(const FaceBox& box, int image_width, int image_height);

// face-api's input for one face of an RGB image, as its tensor path computes it in float32: the
// face_api_crop pixels; padToSquare with centring (zeros, round(diff / 2) after the face — Math.round,
// halves up — and the rest before it, along the shorter side); tf.image.resizeBilinear to 112x112
// with alignCorners and halfPixelCenters false (skipped when the square is already 112); then
// (v − mean_rgb) / 255 with mean_rgb (122.782, 117.001, 104.298) as float32. -> [3, 112, 112] f32.
Tensor face_expression_input(const io::Image& rgb, const FaceBox& box);

}  // namespace gler::models
