// Average (SEED_SPEC §4.7): the mean MTCNN O-Net feature of the image's faces (zero without faces)
// and the DenseNet's pooled image feature, each batch-normalised without affine terms, concatenated
// (faces first), dropout, one linear layer. The seed detaches the image feature (its DenseNet is
// frozen; its BatchNorms still run in the model's mode). Names: global_model.* (the DenseNet's
// features), global_fc3_debug, bn_global, bn_face_features.
#include "core/autograd.h"
#include "core/ops.h"
#include "layers/batch_norm.h"
#include "layers/linear.h"
#include "models/gler/archs.h"
#include "models/gler/dropout.h"
#include "models/gler/face_slots.h"
#include "models/gler/inputs.h"
#include "models/gler/seed_init.h"

namespace gler::models {
namespace {

class AverageModel : public GlerModel {
 public:
  AverageModel(const ModelInfo& info, Generator& gen, const ModelShapes& shapes)
      : GlerModel(info),
        image_size_(shapes.image_size),
        onet_dim_(shapes.onet_dim),
        global_model_(shapes.densenet, gen),
        global_fc3_debug_(shapes.onet_dim + global_model_.num_features, 3, true, gen),
        bn_global_(global_model_.num_features, 1e-5, 0.1, false),
        bn_face_features_(shapes.onet_dim, 1e-5, 0.1, false) {
    seed_kaiming_init(global_fc3_debug_, gen);
    register_module("global_model", global_model_);
    register_module("global_fc3_debug", global_fc3_debug_);
    register_module("bn_global", bn_global_);
    register_module("bn_face_features", bn_face_features_);
    register_module("dropout", dropout_);
  }

  GlerOutput forward(const GlerInput& input, Generator* gen) override {
    const Tensor& w = global_fc3_debug_.weight;
    const InputContext ctx{"average", w.dtype(), w.device()};
    const std::int64_t batch = check_images(input.images, image_size_, ctx);
    check_face_features(input.face_features, batch, onet_dim_, ctx);
    const std::vector<std::int64_t> counts =
        check_face_counts(input.face_counts, batch, input.face_features.size(1), ctx);
    Tensor image;
    {
      NoGradGuard detached;
      image = seed_global_pool(global_model_.forward(input.images));
    }
    const Tensor faces = mean_over_faces(input.face_features, counts);
    const Tensor joint = ops::concat({bn_face_features_.forward(faces), bn_global_.forward(image)}, 1);
    return {global_fc3_debug_.forward(apply_dropout(dropout_, joint, gen, "average")), Tensor()};
  }

  Module* frozen_backbone() override { return &global_model_; }

 private:
  std::int64_t image_size_, onet_dim_;
  DenseNetFeatures global_model_;
  layers::Linear global_fc3_debug_;
  layers::BatchNorm1d bn_global_, bn_face_features_;
  layers::Dropout dropout_{0.5};
};

}  // namespace

std::unique_ptr<GlerModel> make_average_model(const ModelInfo& info, Generator& gen, const ModelShapes& shapes) {
  return std::make_unique<AverageModel>(info, gen, shapes);
}

}  // namespace gler::models
