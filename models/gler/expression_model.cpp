// The zero-shot default (arch "default"): no group-emotion training at all. face-api's
// face-expression network (models/face_expression.h) gives each face 7 expression probabilities;
// each face's valence distribution is its expressions summed by kValence; the group's is the mean
// of its faces' weighted by face area, so larger (nearer) faces count more. An image without faces
// gets equal probabilities (logits 0). The logits are log(probabilities), so gler_infer's softmax
// gives the distribution back. Inference only: the network's weights are face-api's, never trained here.
#include <cmath>

#include "core/error.h"
#include "models/face_expression.h"
#include "models/gler/archs.h"
#include "models/gler/face_slots.h"
#include "models/gler/inputs.h"

namespace gler::models {

// neutral, happy, sad, angry, fearful, disgusted, surprised -> Negative, Neutral, Positive.
// Surprise says how strongly, not which way, so it counts as Neutral, as neutral itself does.
const std::array<int, 7> kValence = {1, 2, 0, 0, 0, 0, 1};

namespace {

class ExpressionModel : public GlerModel {
 public:
  ExpressionModel(const ModelInfo& info, Generator& gen) : GlerModel(info), net_(gen) {
    // The net's layers are this model's direct children, so its file's names load as they are.
    for (std::size_t b = 0; b < net_.blocks.size(); ++b) register_module("dense" + std::to_string(b), *net_.blocks[b]);
    register_module("fc", net_.fc);
  }

  GlerOutput forward(const GlerInput& input, Generator*) override {
    const Tensor& w = net_.fc.weight;
    const InputContext ctx{"default", w.dtype(), w.device()};
    const std::int64_t size = kFaceExpressionInputSize;
    check_faces(input.faces, -1, size, size, ctx);
    const std::int64_t batch = input.faces.size(0), slots = input.faces.size(1);
    const std::vector<std::int64_t> counts = check_face_counts(input.face_counts, batch, slots, ctx);
    GLER_CHECK(input.face_boxes.defined() && input.face_boxes.ndim() == 3 && input.face_boxes.size(0) == batch &&
                   input.face_boxes.size(1) == slots && input.face_boxes.size(2) == 4,
               "default: face_boxes must be [" << batch << ", " << slots << ", 4], got " << describe(input.face_boxes));
    const Tensor faces = real_faces_and_blank(input.faces, counts);
    const std::int64_t real = faces.size(0) - (needs_zero_face(counts, slots) ? 1 : 0);
    const std::vector<float> probs = real > 0 ? net_.probabilities(faces.slice(0, real)).to_vector<float>() : std::vector<float>();
    const std::vector<float> boxes = input.face_boxes.to(Device::CPU).to_vector<float>();

    std::vector<float> group(static_cast<std::size_t>(batch) * 3, 0.0f), weights(static_cast<std::size_t>(batch * slots), 0.0f),
        expressions(static_cast<std::size_t>(batch * slots) * 7, 0.0f);
    std::size_t row = 0;
    for (std::int64_t b = 0; b < batch; ++b) {
      const std::size_t n = static_cast<std::size_t>(counts[static_cast<std::size_t>(b)]);
      double total = 0;
      std::vector<double> area(n);
      for (std::size_t i = 0; i < n; ++i) {
        const float* box = boxes.data() + (static_cast<std::size_t>(b * slots) + i) * 4;
        area[i] = std::max(0.0, static_cast<double>(box[2]) - box[0] + 1) * std::max(0.0, static_cast<double>(box[3]) - box[1] + 1);
        total += area[i];
      }
      double mix[3] = {0, 0, 0};
      for (std::size_t i = 0; i < n; ++i, ++row) {
        const double weight = total > 0 ? area[i] / total : 1.0 / static_cast<double>(n);
        const std::size_t slot = static_cast<std::size_t>(b * slots) + i;
        weights[slot] = static_cast<float>(weight);
        for (std::size_t k = 0; k < 7; ++k) {
          expressions[slot * 7 + k] = probs[row * 7 + k];
          mix[kValence[k]] += weight * probs[row * 7 + k];
        }
      }
      for (int c = 0; c < 3; ++c)
        group[static_cast<std::size_t>(b) * 3 + static_cast<std::size_t>(c)] = n > 0 ? static_cast<float>(std::log(mix[c])) : 0.0f;
    }
    GlerOutput out;
    out.logits = Tensor::from_vector(group, Shape({batch, 3})).to(w.device());
    out.attention = Tensor::from_vector(weights, Shape({batch, slots})).to(w.device());
    out.face_classes = Tensor::from_vector(expressions, Shape({batch, slots, 7})).to(w.device());
    return out;
  }

 private:
  FaceExpressionNet net_;
};

}  // namespace

std::unique_ptr<GlerModel> make_expression_model(const ModelInfo& info, Generator& gen) {
  return std::make_unique<ExpressionModel>(info, gen);
}

}  // namespace gler::models
