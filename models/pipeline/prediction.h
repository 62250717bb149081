// What gler_infer says about one image, and the ways it says it: JSON (docs/CLI.md), CSV, and a
// picture (annotate.h). Classes are in the seed's label order: Negative 0, Neutral 1, Positive 2.
#pragma once
#include <array>
#include <string>
#include <vector>

#include "io/json.h"
#include "models/faces/face.h"
#include "models/gler/gler_model.h"
#include "models/pipeline/group_sample.h"

namespace gler::models::pipeline {

extern const std::array<const char*, 3> kClassNames;
extern const char* const kDefaultNote;

struct Prediction {
  std::string image;
  std::string error;  // non-empty: the image failed and nothing else is set
  int label = 0;
  std::array<double, 3> logits{}, probs{};
  int faces_found = 0, faces_used = 0;
  bool detected = false;                   // faces came from MTCNN (boxes known)
  std::vector<faces::DetectedFace> faces;  // detected faces, detector order
  std::vector<double> attention;           // per used face (attention models; the default's area weights), else empty
  bool area_weights = false;               // `attention` holds the default model's face weights
  std::vector<std::array<double, 7>> expressions;  // the default model: per used face, face-api's 7 probabilities
  std::string note;                        // the default model: what kind of answer this is
};

// Row b of a model output for `sample`: softmax probabilities (in double) and the arg-max label
// (the first of equal maxima, as torch.max). The default model says Neutral, not an arg-max of
// equal values, for an image without faces, and notes that it is a zero-shot answer.
Prediction make_prediction(const GroupSample& sample, const GlerOutput& output, std::int64_t b, const ModelInfo& model);
Prediction failed_prediction(const std::string& image, const std::string& error);

json::Value to_json(const Prediction& p);
std::string csv_header();
std::string to_csv_row(const Prediction& p);

}  // namespace gler::models::pipeline
