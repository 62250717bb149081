// Attention_A, Attention_B and Attention_C, and the EmotiC variants of B and C (SEED_SPEC §4.8-4.10).
// All three: an image vector g from the DenseNet (its pooled feature, detached, through
// global_fc_main; EmotiC: the whole DenseNet, trained, with a 256-way classifier), a face feature F
// per slot from sphere20a (fc6 to 256, B: 64), dropout on both; a score per face, a softmax over
// the image's real faces, the weighted sum of its face features; then [BN(attended), BN(g)] ->
// global_fc3_debug -> 3 logits. They differ in the score:
//   A: g · F_t;  B: global_fc(g) (256 -> 64) · F_t;  C: attentionfc2(attentionfc1(F_t)), no g.
// seed_compat reproduces the seed: A and B's scores come from F's memory read as [B, D, F] (a view
// where a transpose was meant, §4.8 step 3), and the weights are detached (the score layers never
// learn, §4.11). Corrected: true dot products, gradients through the weights.
#include <map>

#include "core/autograd.h"
#include "core/ops.h"
#include "layers/attention_pooling.h"
#include "layers/batch_norm.h"
#include "layers/linear.h"
#include "models/gler/archs.h"
#include "models/gler/dropout.h"
#include "models/gler/face_slots.h"
#include "models/gler/inputs.h"
#include "models/gler/seed_init.h"
#include "models/gler/sphere_options.h"

namespace gler::models {
namespace {

enum class Variant { a, b, c };

Variant variant_of(const std::string& arch) {
  if (arch == "attention_a") return Variant::a;
  if (arch == "attention_b") return Variant::b;
  return Variant::c;
}

std::unique_ptr<layers::Linear> seed_linear(std::int64_t in, std::int64_t out, Generator& gen) {
  auto layer = std::make_unique<layers::Linear>(in, out, true, gen);
  seed_kaiming_init(*layer, gen);
  return layer;
}

// Scores [B, F] of query g [B, D] against faces [B, F, D].
Tensor dot_scores(const Tensor& g, const Tensor& faces, bool seed_reshape) {
  const std::int64_t batch = faces.size(0), slots = faces.size(1), dim = faces.size(2);
  const Tensor query = g.reshape({batch, 1, dim});
  const Tensor scores =
      seed_reshape ? ops::matmul(query, faces.reshape({batch, dim, slots})) : ops::matmul(query, faces, false, true);
  return scores.reshape({batch, slots});
}

class AttentionModel : public GlerModel {
 public:
  AttentionModel(const ModelInfo& info, Generator& gen, const ModelShapes& shapes)
      : GlerModel(info),
        variant_(variant_of(info.arch)),
        image_size_(shapes.image_size),
        face_height_(shapes.face_height(info.seed_compat)),
        face_width_(shapes.face_width(info.seed_compat)),
        face_dim_(variant_ == Variant::b ? shapes.attention_dim : shapes.head_dim) {
    std::int64_t image_dim = 0;
    if (info.emotic) {
      DenseNetConfig config = shapes.densenet;
      config.num_classes = shapes.head_dim;
      emotic_model_ = std::make_unique<DenseNet>(config, gen);
      seed_kaiming_init(emotic_model_->classifier, gen);
      register_module("global_model", *emotic_model_);
    } else {
      // The seed's are Global_Simple's trained features; made here, PyTorch's default init.
      global_model_ = std::make_unique<DenseNetFeatures>(shapes.densenet, gen);
      image_dim = global_model_->num_features;
      register_module("global_model", *global_model_);
    }
    align_model_ =
        std::make_unique<Sphere20a>(gen, sphere_options(shapes, SphereHead::linear, face_dim_, LinearInit::kaiming));
    register_module("align_model", *align_model_);

    // The new layers, registered in the seed's order (its state-dict order, §6.2).
    std::map<std::string, Module*> heads;
    if (!info.emotic) heads["global_fc_main"] = (global_fc_main_ = seed_linear(image_dim, shapes.head_dim, gen)).get();
    heads["global_fc3_debug"] = (global_fc3_debug_ = seed_linear(face_dim_ + shapes.head_dim, 3, gen)).get();
    if (variant_ == Variant::b)
      heads["global_fc"] = (global_fc_ = seed_linear(shapes.head_dim, shapes.attention_dim, gen)).get();
    if (variant_ == Variant::c) {
      heads["attentionfc1"] = (attentionfc1_ = seed_linear(face_dim_, shapes.attention_dim, gen)).get();
      heads["attentionfc2"] = (attentionfc2_ = seed_linear(shapes.attention_dim, 1, gen)).get();
    }
    bn_debug_face_ = std::make_unique<layers::BatchNorm1d>(face_dim_, 1e-5, 0.1, false);
    bn_debug_global_ = std::make_unique<layers::BatchNorm1d>(shapes.head_dim, 1e-5, 0.1, false);
    heads["bn_debug_face"] = bn_debug_face_.get();
    heads["bn_debug_global"] = bn_debug_global_.get();
    static const std::map<Variant, std::vector<std::string>> order{
        {Variant::a, {"global_fc_main", "global_fc3_debug", "bn_debug_face", "bn_debug_global"}},
        {Variant::b, {"global_fc3_debug", "global_fc", "bn_debug_face", "bn_debug_global", "global_fc_main"}},
        {Variant::c,
         {"global_fc3_debug", "attentionfc1", "attentionfc2", "global_fc_main", "bn_debug_face", "bn_debug_global"}},
    };
    for (const std::string& name : order.at(variant_))
      if (heads.contains(name)) register_module(name, *heads.at(name));
    register_module("global_fc_main_dropout", global_fc_main_dropout_);
    register_module("align_model_dropout", align_model_dropout_);
    if (variant_ == Variant::b) register_module("global_fc_dropout", global_fc_dropout_);
    if (variant_ == Variant::c) register_module("attentionfc1_dropout", attentionfc1_dropout_);
  }

  GlerOutput forward(const GlerInput& input, Generator* gen) override {
    const char* model = info().arch.c_str();
    const Tensor& w = global_fc3_debug_->weight;
    const InputContext ctx{model, w.dtype(), w.device()};
    const std::int64_t batch = check_images(input.images, image_size_, ctx);
    check_faces(input.faces, batch, face_height_, face_width_, ctx);
    const std::int64_t slots = input.faces.size(1);
    const std::vector<std::int64_t> counts = check_face_counts(input.face_counts, batch, slots, ctx);

    const Tensor g = apply_dropout(global_fc_main_dropout_, image_vector(input.images, gen), gen, model);
    const Tensor faces =
        apply_dropout(align_model_dropout_, encode_faces(*align_model_, input.faces, counts), gen, model);
    const bool seed = info().seed_compat;
    Tensor scores;
    switch (variant_) {
      case Variant::a:
        scores = dot_scores(g, faces, seed);
        break;
      case Variant::b:
        scores = dot_scores(apply_dropout(global_fc_dropout_, global_fc_->forward(g), gen, model), faces, seed);
        break;
      case Variant::c: {
        const Tensor hidden = apply_dropout(attentionfc1_dropout_, attentionfc1_->forward(faces), gen, model);
        scores = attentionfc2_->forward(hidden).reshape({batch, slots});
        break;
      }
    }
    const layers::AttentionPooled pooled =
        layers::attention_pooling(scores, input.face_counts.to(scores.device()), faces, seed);
    const Tensor joint = ops::concat({bn_debug_face_->forward(pooled.pooled), bn_debug_global_->forward(g)}, 1);
    return {global_fc3_debug_->forward(joint), pooled.weights};
  }

  // EmotiC trains its whole DenseNet, so only the other variants have a frozen one.
  Module* frozen_backbone() override { return global_model_.get(); }

 private:
  // Before dropout: global_fc_main of the detached pooled feature, or the EmotiC DenseNet's output.
  Tensor image_vector(const Tensor& images, Generator* gen) const {
    if (emotic_model_) return emotic_model_->classifier.forward(seed_global_pool(emotic_model_->features(images, gen)));
    Tensor pooled;
    {
      NoGradGuard detached;
      pooled = seed_global_pool(global_model_->forward(images, gen));
    }
    return global_fc_main_->forward(pooled);
  }

  const Variant variant_;
  const std::int64_t image_size_, face_height_, face_width_, face_dim_;
  std::unique_ptr<DenseNet> emotic_model_;          // EmotiC: the whole DenseNet
  std::unique_ptr<DenseNetFeatures> global_model_;  // otherwise: its features
  std::unique_ptr<Sphere20a> align_model_;
  std::unique_ptr<layers::Linear> global_fc_main_, global_fc3_debug_, global_fc_, attentionfc1_, attentionfc2_;
  std::unique_ptr<layers::BatchNorm1d> bn_debug_face_, bn_debug_global_;
  layers::Dropout global_fc_main_dropout_{0.5}, align_model_dropout_{0.5}, global_fc_dropout_{0.5},
      attentionfc1_dropout_{0.5};
};

}  // namespace

std::unique_ptr<GlerModel> make_attention_model(const ModelInfo& info, Generator& gen, const ModelShapes& shapes) {
  return std::make_unique<AttentionModel>(info, gen, shapes);
}

}  // namespace gler::models
