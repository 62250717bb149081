// The validation confusion matrix at the end of training, as a table to print and as JSON.
#pragma once
#include <string>

#include "io/json.h"
#include "train/ensemble/metrics.h"

namespace gler::train {

// Rows are the true class, columns the predicted one (Negative, Neutral, Positive), then each
// class's recall and the overall accuracy; "-" where a class (or the whole split) has no images.
std::string confusion_table(const ensemble::Evaluation& evaluation);

// {"classes":[..],"matrix":[[..],..] ([true][predicted]),"total":n,"correct":n,"accuracy":x,
//  "recall":[..]}; recall (accuracy) is null for a class (a split) without images.
json::Value confusion_json(const ensemble::Evaluation& evaluation);

}  // namespace gler::train
