// The tensors each architecture's checkpoint must hold (names after normalize_name, shapes as
// PyTorch stores them), arch inference from names, and the safetensors metadata for each arch.
// Layouts: SEED_SPEC.md §3.2 (MTCNN), §4 and §6.2 (DenseNet, sphere20a, fusion models);
// face_expression is face-api's FaceExpressionNet as tfjs_to_torch names it (models/face_expression.h).
#pragma once
#include <string>
#include <vector>

#include "weights_import/state_dict.h"

namespace gler::wi {

// densenet121 densenet161 densenet169 densenet201 sphere20a mtcnn global local average
// attention_a attention_b attention_c face_expression
const std::vector<std::string>& arch_names();

// face_expression's outputs in order, as face-api's FACE_EXPRESSION_LABELS: neutral happy sad angry
// fearful disgusted surprised. The metadata has them comma-separated as `classes`.
const std::vector<std::string>& face_expression_classes();

// Guesses the architecture from tensor names (and a few shapes); throws when nothing fits.
std::string infer_arch(const StateDict& sd);

// Checks `sd` against `arch`: every missing, unexpected or mis-shaped tensor is listed in one
// error. On success, names are made canonical (e.g. a Local_FineTune checkpoint's `align_model.`
// prefix is dropped for arch local) and metadata gets `arch` and the hyper-parameters.
void conform_to_arch(StateDict& sd, const std::string& arch);

}  // namespace gler::wi
