// The paper's group-emotion models (SEED_SPEC §4), one interface: a batch of images, their
// aligned faces and/or MTCNN face features in; three logits (Negative, Neutral, Positive) and,
// for the attention models, the weight of every face out. The arch and its hyper-parameters live
// in ModelInfo, which is also the safetensors metadata gler_import and gler_train write (with the
// shapes, when not the defaults: model_shapes.h), so a model file is all gler_infer needs.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/init.h"
#include "core/module.h"
#include "models/faces/align.h"
#include "models/gler/model_shapes.h"

namespace gler::models {

struct ModelInfo {
  // global | local | average | attention_a | attention_b | attention_c: the paper's models;
  // default: the zero-shot model (expression_model.cpp), from face-api's face-expression weights.
  std::string arch = "global";
  // 1: the seed's method with its quirks (SEED_SPEC §8: the A/B score reshape, 96x112 unnormalised
  // eye-aligned faces, grayscale normalised by the red channel, the O-Net feature misindexing), so
  // the seed's checkpoints give the seed's outputs. 0: the corrected method (models gler trains).
  bool seed_compat = false;
  bool emotic = false;                // attention_b/c: full DenseNet with a 2208->256 classifier (no global_fc_main)
  // local: fc6 "linear" (Linear(512,3)), "lsoftmax" (x·W, W [512,3]) or "asoftmax" (SphereFace's
  // AngleLinear(512,3), m 4: the face logits ‖x‖cos θ; not among the paper's models)
  std::string local_head = "linear";
  int max_faces = 15;                 // face slots per image; faces past it are dropped (MTCNN order)

  bool uses_image() const { return arch != "local" && arch != "default"; }
  bool uses_faces() const { return arch == "local" || arch == "default" || arch.rfind("attention_", 0) == 0; }
  // The default model takes face-api's box crops (face_expression_input), not aligned faces.
  bool uses_box_crops() const { return arch == "default"; }
  bool uses_face_features() const { return arch == "average"; }
  bool is_attention() const { return arch.rfind("attention_", 0) == 0; }
  // Face crops: seed mode 96 high x 112 wide in [0, 1]; corrected 112 x 96, (x − 127.5) / 128.
  faces::AlignMode alignment() const { return seed_compat ? faces::AlignMode::seed : faces::AlignMode::sphereface; }
  // The default model: face-api's 112 x 112.
  std::int64_t face_height() const { return seed_compat ? 96 : 112; }
  std::int64_t face_width() const { return seed_compat || arch == "default" ? 112 : 96; }

  // Reads arch, seed_compat, emotic, fc6/local_head, max_faces from safetensors metadata (missing
  // keys keep the defaults above; an unknown arch or a bad value throws, naming it).
  static ModelInfo from_metadata(const std::map<std::string, std::string>& metadata);
  std::map<std::string, std::string> to_metadata() const;
  // Throws unless this names a model: one of the six archs, emotic only for attention_b/c, local_head
  // linear, lsoftmax or asoftmax, max_faces >= 1. from_metadata and make_model call it.
  void check() const;
};

// The default model's face slots: a crowd's faces all count.
constexpr int kDefaultMaxFaces = 64;

// The six archs, in the paper's order (the default model is not among them: gler_infer picks it
// when no --model is given).
const std::vector<std::string>& gler_archs();

struct GlerInput {
  Tensor images;  // f32 [B, 3, 224, 224], normalised as io/preprocess does (models that use the image)
  // Face slots F = max_faces as a rule; no weight depends on F, so the models take any F >= 1.
  Tensor faces;          // f32 [B, F, 3, face_height, face_width]; slots >= count are zero
  Tensor face_counts;    // i64 [B], each in [0, F]: the number of real faces in the slots
  Tensor face_features;  // f32 [B, F, 256] O-Net features (average); slots >= count are zero
  Tensor face_boxes;     // f32 [B, F, 4] detected boxes [x1, y1, x2, y2] (default: weights by area)
  // i64 [B], training only and optional: each image's label, the target an L-Softmax fc6 puts its
  // margin on (local with local_head lsoftmax, in training mode); other models ignore it.
  Tensor labels;

  // A copy with every defined tensor on `device` (the batch assemblers build it on the CPU).
  GlerInput to(Device device) const;
};

struct GlerOutput {
  Tensor logits;          // [B, 3]
  Tensor attention{};     // [B, F] for attention models and default's face weights (0 on empty slots); else undefined
  Tensor face_classes{};  // default: [B, F, 7] each face's expression probabilities; undefined otherwise
  // local: [B, F, 3] every slot's fc6 logits (empty slots: the zero face's, as the seed's network
  // gives them); logits is their mean over the real slots. Undefined for other archs.
  Tensor face_logits{};
  // local with an A-Softmax fc6: [B, F, 3] every slot's ‖x‖ψ(θ), the margin scores A-Softmax's
  // loss mixes into the target logit (face_logits holds ‖x‖cos θ). Undefined otherwise.
  Tensor face_phi{};
};

class GlerModel : public Module {
 public:
  explicit GlerModel(ModelInfo info) : info_(std::move(info)) {}
  ~GlerModel() override = default;
  // Eval or training mode as set on the module; `gen` draws dropout masks in training. Inputs are
  // checked (shapes, dtype and device of the model, counts in range): errors name the tensor.
  // Inference: run it under a NoGradGuard (core/autograd.h), as for the networks; otherwise every
  // parameter requires a gradient and the forward records the graph and keeps its activations.
  virtual GlerOutput forward(const GlerInput& input, Generator* gen = nullptr) = 0;
  const ModelInfo& info() const { return info_; }
  // The DenseNet whose output the model detaches (average, and attention_a/b/c without emotic: the
  // seed's frozen global_model), or nullptr. Training never updates its parameters; the trainer
  // puts it in eval mode in the default fidelity, the seed left it in train mode (its BatchNorm
  // statistics drifted, SEED_SPEC §4.7).
  virtual Module* frozen_backbone() { return nullptr; }

 private:
  ModelInfo info_;
};

// A model of `info`'s arch, initialised as the seed initialises it (SEED_SPEC §4.0), drawn from gen.
// `shapes` other than the defaults are for tests and small models (model_shapes.h); a file saved
// with shapes_to_metadata(shapes) merged into info.to_metadata() loads with them.
std::unique_ptr<GlerModel> make_model(const ModelInfo& info, Generator& gen, const ModelShapes& shapes = {});

// Builds the model named by the file's metadata (arch etc. and its shapes; arch face_expression,
// face-api's weights as gler_import converts them, gives the default model), loads every tensor (strict), moves it
// to `device` and puts it in eval mode. A file of another kind (a bare DenseNet, MTCNN weights):
// an error naming what the file is and what gler_infer needs.
std::unique_ptr<GlerModel> load_model(const std::string& path, Device device);

// Where scripts/fetch_face_expression.sh installs the default model: data/default/face_expression.safetensors.
std::string default_model_path();

}  // namespace gler::models
