// Analytic FLOP counts of the networks gler_bench times: 2 x the multiply-accumulates of every
// convolution and fully connected layer (Linear, and the x·W of L-Softmax heads); biases,
// normalisation, activations, pooling and the attention's few dot products (B·F·D) are left out,
// as PyTorch counts with forward hooks on Conv2d / Linear do (bench/torch_ref.py --flops).
#pragma once
#include <cstdint>
#include <string>

#include "models/densenet.h"
#include "models/gler/gler_model.h"

namespace gler::bench {

struct FlopCount {
  double forward = 0;
  // The part of `forward` in layers a gradient reaches in training (the fusion models detach their
  // DenseNet feature, so its layers get none).
  double trained = 0;

  FlopCount& operator+=(const FlopCount& o) {
    forward += o.forward;
    trained += o.trained;
    return *this;
  }
  // A training step's forward + backward: each trained layer's backward costs two of its forwards
  // (the gradients of its input and of its weights).
  double train_step() const { return forward + 2 * trained; }
};

// A network every layer of which is trained.
inline FlopCount every_layer_trained(double forward) { return {forward, forward}; }

// A DenseNet on n images of size x size: features, and the classifier unless features_only.
double densenet_flop(const models::DenseNetConfig& config, std::int64_t n, std::int64_t size, bool features_only);
// sphere20a on n faces of height x width with a `classes`-way fc6.
double sphere20a_flop(std::int64_t n, std::int64_t height, std::int64_t width, std::int64_t classes);
// MTCNN's P-Net on n images of height x width; R-Net / O-Net on n crops of 24x24 / 48x48.
double pnet_flop(std::int64_t n, std::int64_t height, std::int64_t width);
double rnet_flop(std::int64_t n);
double onet_flop(std::int64_t n);

// A GLER model of `info` on `batch` images with every one of `faces` slots filled: the face network
// counted on batch x faces faces, as the seed runs it (gler's zero face, which runs only for a batch
// with an empty slot, is not counted: it is not the model's work).
FlopCount gler_model_flop(const models::ModelInfo& info, std::int64_t batch, std::int64_t faces);

}  // namespace gler::bench
