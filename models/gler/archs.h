// The builders behind make_model, one per paper-row family (each in its own .cpp). Each takes an
// info already checked for its arch and the shapes to build (model_shapes.h).
#pragma once
#include <array>
#include <memory>

#include "models/gler/gler_model.h"

namespace gler::models {

std::unique_ptr<GlerModel> make_global_model(const ModelInfo& info, Generator& gen, const ModelShapes& shapes);
std::unique_ptr<GlerModel> make_local_model(const ModelInfo& info, Generator& gen, const ModelShapes& shapes);
std::unique_ptr<GlerModel> make_average_model(const ModelInfo& info, Generator& gen, const ModelShapes& shapes);
std::unique_ptr<GlerModel> make_attention_model(const ModelInfo& info, Generator& gen, const ModelShapes& shapes);
std::unique_ptr<GlerModel> make_expression_model(const ModelInfo& info, Generator& gen);

// The default model's map from face-api's 7 expressions to Negative 0, Neutral 1, Positive 2.
extern const std::array<int, 7> kValence;

}  // namespace gler::models
