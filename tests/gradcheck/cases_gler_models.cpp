// Gradient checks of the GLER models' heads on tiny backbones (ModelShapes: a one-block DenseNet on
// 28x28 images, a sphere20a of widths 2-3 on 32x16 faces, heads of width 3-5), in eval and training
// mode (batch statistics; dropout masks from a generator re-seeded on every call), with images of
// 0, 2 and 3 faces in 3 slots. The output checked is the logits and, for the attention models, the
// weights. Checked inputs: the heads' parameters, the backbones' last layers (checked() says which;
// the non-EmotiC fusion models' DenseNet is detached, as the seed's) and average's O-Net features.
// Attention models are checked in corrected mode: seed mode detaches the weights, so finite
// differences (which see the path through the weights) and the seed's gradient disagree by design
// (test_gler_models checks that the score layers get no gradient there).
#include <memory>
#include <string>

#include "core/ops.h"
#include "models/gler/gler_model.h"
#include "tests/gradcheck/gradcheck.h"
#include "tests/models/gler_test_models.h"

namespace gler::gradcheck {
namespace {

using test::info_of;
using test::tiny_shapes;

// The heads, and the backbones' last layers, through which the heads' gradients enter them (the
// backbones have cases of their own): DenseNet norm5 and classifier where the DenseNet is not
// detached (global, EmotiC), sphere20a fc5 and fc6.
bool checked(const std::string& name, const models::ModelInfo& info) {
  const bool densenet = name.starts_with("features.") || name.starts_with("global_model.");
  if (densenet)
    return (info.arch == "global" || info.emotic) &&
           (name.find("norm5.") != std::string::npos || name.find("classifier.") != std::string::npos);
  const std::string sphere = name.starts_with("align_model.") ? name.substr(12) : name;
  if (info.arch == "local" || name.starts_with("align_model."))
    return sphere.starts_with("fc5.") || sphere.starts_with("fc6.");
  return true;
}

struct Setup {
  std::string arch;
  bool emotic = false;
  std::string local_head = "linear";
};

Result model_case(const Setup& setup, bool training) {
  models::ModelInfo info;
  info.arch = setup.arch;
  info.seed_compat = false;
  info.emotic = setup.emotic;
  info.local_head = setup.local_head;
  info.max_faces = 3;
  const models::ModelShapes shapes = tiny_shapes();
  Generator init(6);
  std::shared_ptr<models::GlerModel> model = models::make_model(info, init, shapes);
  model->to(DType::f64);
  // Non-trivial BatchNorm state, so eval mode is not the identity.
  std::uint64_t seed = 300;
  for (const auto& [name, t] : model->state_dict()) {
    const bool bn = name.find("norm") != std::string::npos || name.starts_with("bn_");
    if (!bn || name.ends_with("num_batches_tracked")) continue;
    const bool scale = name.ends_with("running_var") || name.ends_with(".weight");
    t.copy_(random_input(t.shape(), seed++, scale ? 0.5 : -0.3, scale ? 1.5 : 0.3));
  }
  model->train(training);

  const std::int64_t batch = 3, slots = 3, h = shapes.face_long, w = shapes.face_short;
  models::GlerInput in;
  in.images = random_input({batch, 3, 28, 28}, 1, -2, 2).detach();
  in.face_counts = Tensor::from_vector<std::int64_t>({0, 2, 3}, {batch});
  const Tensor faces = random_input({batch, slots, 3, h, w}, 2, 0, 1).detach();
  const Tensor features = random_input({batch, slots, shapes.onet_dim}, 3, 0, 1);
  // Empty slots are zero, as the input contract says.
  faces.slice(0, 1).fill_(0.0);
  faces.slice(1, 2).reshape({slots, 3, h, w}).slice(2, 3).fill_(0.0);
  features.detach().slice(0, 1).fill_(0.0);
  features.detach().slice(1, 2).reshape({slots, shapes.onet_dim}).slice(2, 3).fill_(0.0);
  in.faces = faces;

  std::vector<Tensor> inputs;
  if (info.uses_face_features()) inputs.push_back(features);
  for (const auto& [name, p] : model->named_parameters())
    if (checked(name, info)) inputs.push_back(p);
  const bool uses_features = info.uses_face_features();
  return check(
      [model, in, uses_features](const std::vector<Tensor>& x) {
        models::GlerInput input = in;
        if (uses_features) input.face_features = x[0];
        Generator dropout(77);
        const models::GlerOutput out = model->forward(input, &dropout);
        return out.attention.defined() ? ops::concat({out.logits, out.attention}, 1) : out.logits;
      },
      inputs);
}

GLER_GRADCHECK("models/gler global tiny eval") { return model_case({"global"}, false); }
GLER_GRADCHECK("models/gler local tiny linear eval") { return model_case({"local"}, false); }
GLER_GRADCHECK("models/gler local tiny lsoftmax train") { return model_case({"local", false, "lsoftmax"}, true); }
GLER_GRADCHECK("models/gler average tiny eval") { return model_case({"average"}, false); }
GLER_GRADCHECK("models/gler average tiny train") { return model_case({"average"}, true); }
GLER_GRADCHECK("models/gler attention_a tiny eval") { return model_case({"attention_a"}, false); }
GLER_GRADCHECK("models/gler attention_a tiny train") { return model_case({"attention_a"}, true); }
GLER_GRADCHECK("models/gler attention_b tiny eval") { return model_case({"attention_b"}, false); }
GLER_GRADCHECK("models/gler attention_b tiny train") { return model_case({"attention_b"}, true); }
GLER_GRADCHECK("models/gler attention_c tiny eval") { return model_case({"attention_c"}, false); }
GLER_GRADCHECK("models/gler attention_c tiny train") { return model_case({"attention_c"}, true); }
GLER_GRADCHECK("models/gler attention_b emotic tiny train") { return model_case({"attention_b", true}, true); }
GLER_GRADCHECK("models/gler attention_c emotic tiny eval") { return model_case({"attention_c", true}, false); }

}  // namespace
}  // namespace gler::gradcheck
