// Local / Local_FineTune / Local_FineTune_LSoftmax (SEED_SPEC §4.4-4.6): sphere20a with a 3-way fc6
// on every face, the logits averaged over the image's real faces; an image without faces gets
// zero logits. Names as gler_import writes a local model: the sphere's, without a prefix.
#include "core/error.h"
#include "models/gler/archs.h"
#include "models/gler/face_slots.h"
#include "models/gler/inputs.h"
#include "models/gler/sphere_options.h"

namespace gler::models {
namespace {

// The name `parent` registers its direct child `child` under: the first component of the key of
// the child's first tensor in the parent's state dict.
std::string child_name(const Module& parent, const Module& child) {
  const Tensor first = child.state_dict().front().second;
  for (const auto& [name, t] : parent.state_dict())
    if (t.same(first)) return name.substr(0, name.find('.'));
  GLER_FAIL("child_name: the module is not a child of its parent");
}

SphereHead head_of(const std::string& local_head) {
  if (local_head == "lsoftmax") return SphereHead::lsoftmax;
  if (local_head == "asoftmax") return SphereHead::angle;
  return SphereHead::linear;
}

class LocalModel : public GlerModel {
 public:
  LocalModel(const ModelInfo& info, Generator& gen, const ModelShapes& shapes)
      : GlerModel(info),
        face_height_(shapes.face_height(info.seed_compat)),
        face_width_(shapes.face_width(info.seed_compat)),
        sphere_(gen, sphere_options(shapes, head_of(info.local_head),
                                    3, LinearInit::pytorch_default, info.seed_compat)) {
    // The sphere's layers are this model's direct children, under the sphere's own names.
    std::vector<Module*> layers;
    for (std::size_t i = 0; i < sphere_.convs.size(); ++i) {
      layers.push_back(sphere_.convs[i].get());
      layers.push_back(sphere_.relus[i].get());
    }
    layers.push_back(sphere_.fc5.get());
    if (sphere_.fc6_linear) layers.push_back(sphere_.fc6_linear.get());
    if (sphere_.fc6_lsoftmax) layers.push_back(sphere_.fc6_lsoftmax.get());
    if (sphere_.fc6_angle) layers.push_back(sphere_.fc6_angle.get());
    for (Module* layer : layers) register_module(child_name(sphere_, *layer), *layer);
  }

  GlerOutput forward(const GlerInput& input, Generator*) override {
    const Tensor& w = sphere_.fc5->weight;
    const InputContext ctx{"local", w.dtype(), w.device()};
    check_faces(input.faces, -1, face_height_, face_width_, ctx);
    const std::vector<std::int64_t> counts =
        check_face_counts(input.face_counts, input.faces.size(0), input.faces.size(1), ctx);
    if (sphere_.fc6_angle) {
      // A-Softmax: the faces' ‖x‖cos θ are the logits; ψ goes to the loss.
      const layers::AngleOutputs angle = encode_faces_angle(sphere_, input.faces, counts);
      return {.logits = mean_over_faces(angle.cos_theta, counts), .face_logits = angle.cos_theta, .face_phi = angle.phi_theta};
    }
    // An L-Softmax fc6 takes the labels as its margin's targets (in training mode only).
    const Tensor face_logits = encode_faces(sphere_, input.faces, counts, sphere_.fc6_lsoftmax ? input.labels : Tensor());
    return {.logits = mean_over_faces(face_logits, counts), .face_logits = face_logits};
  }

 private:
  std::int64_t face_height_, face_width_;
  Sphere20a sphere_;
};

}  // namespace

std::unique_ptr<GlerModel> make_local_model(const ModelInfo& info, Generator& gen, const ModelShapes& shapes) {
  return std::make_unique<LocalModel>(info, gen, shapes);
}

}  // namespace gler::models
