// The picture a user wants to see: the photo with each face the model used shaded by its
// attention weight, its box and weight drawn, and the predicted label with the three
// probabilities in a banner along the top.
#pragma once
#include "io/image.h"
#include "models/pipeline/prediction.h"

namespace gler::models::pipeline {

// `picture` is the decoded photo as RGB. Faces beyond the used ones get a thin grey outline.
io::Image annotate(const io::Image& picture, const Prediction& prediction);

}  // namespace gler::models::pipeline
