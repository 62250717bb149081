#include "models/pipeline/prediction.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "models/face_expression.h"

namespace gler::models::pipeline {

const std::array<const char*, 3> kClassNames = {"Negative", "Neutral", "Positive"};
const char* const kDefaultNote =
    "zero-shot default, not trained on group-emotion data: face-api's facial expressions mapped to valence "
    "(happy: Positive; neutral, surprised: Neutral; sad, angry, fearful, disgusted: Negative), faces weighted by area";

namespace {

json::Array numbers(const auto& values) {
  json::Array a;
  for (auto v : values) a.emplace_back(static_cast<double>(v));
  return a;
}

// Shortest round-trip form, as the JSON writer prints numbers.
std::string number_text(double v) { return json::dump(json::Value(v)); }

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

Prediction make_prediction(const GroupSample& sample, const GlerOutput& output, std::int64_t b, const ModelInfo& model) {
  GLER_CHECK(output.logits.ndim() == 2 && output.logits.size(1) == 3 && b < output.logits.size(0),
             "model output: expected logits [B, 3] with row " << b << ", got " << output.logits.shape().str());
  Prediction p;
  p.image = sample.image;
  const std::vector<float> logits = output.logits.slice(b, b + 1).to_vector<float>();
  double top = logits[0];
  for (int c = 0; c < 3; ++c) {
    p.logits[static_cast<std::size_t>(c)] = logits[static_cast<std::size_t>(c)];
    top = std::max(top, p.logits[static_cast<std::size_t>(c)]);
    if (p.logits[static_cast<std::size_t>(c)] > p.logits[static_cast<std::size_t>(p.label)]) p.label = c;
  }
  double sum = 0;
  for (int c = 0; c < 3; ++c) sum += p.probs[static_cast<std::size_t>(c)] = std::exp(p.logits[static_cast<std::size_t>(c)] - top);
  for (double& q : p.probs) q /= sum;
  p.faces_found = sample.faces_found;
  p.faces_used = sample.faces_used;
  p.faces = sample.faces;
  p.detected = sample.detected;
  if (output.attention.defined()) {
    const std::vector<float> w = output.attention.slice(b, b + 1).to_vector<float>();
    p.attention.assign(w.begin(), w.begin() + sample.faces_used);
  }
  if (output.face_classes.defined()) {
    const std::vector<float> e = output.face_classes.slice(b, b + 1).to_vector<float>();
    for (int i = 0; i < sample.faces_used; ++i) {
      std::array<double, 7> row{};
      for (std::size_t k = 0; k < 7; ++k) row[k] = e[static_cast<std::size_t>(i) * 7 + k];
      p.expressions.push_back(row);
    }
  }
  if (model.arch == "default") {
    p.area_weights = true;
    p.note = kDefaultNote;
    if (sample.faces_used == 0) {
      p.label = 1;
      p.note += "; no faces found, so no guess: equal probabilities";
    }
  }
  return p;
}

Prediction failed_prediction(const std::string& image, const std::string& error) {
  Prediction p;
  p.image = image;
  p.error = error;
  return p;
}

json::Value to_json(const Prediction& p) {
  json::Value v = json::Object{{"image", p.image}};
  if (!p.error.empty()) {
    v.set("error", p.error);
    return v;
  }
  v.set("label", kClassNames[static_cast<std::size_t>(p.label)]);
  json::Object probs;
  for (std::size_t c = 0; c < 3; ++c) probs.emplace_back(kClassNames[c], p.probs[c]);
  v.set("probs", std::move(probs));
  v.set("logits", numbers(p.logits));
  v.set("faces_found", p.faces_found);
  v.set("faces_used", p.faces_used);
  json::Array faces;
  const std::size_t listed = p.detected ? p.faces.size() : static_cast<std::size_t>(p.faces_found);
  for (std::size_t i = 0; i < listed; ++i) {
    json::Value face = json::Object{};
    if (p.detected) {
      const faces::DetectedFace& f = p.faces[i];
      face.set("box", numbers(f.box));
      face.set("score", f.score);
      json::Array marks;
      for (const faces::Point& m : f.landmarks) marks.emplace_back(numbers(std::array<double, 2>{m.x, m.y}));
      face.set("landmarks", std::move(marks));
    }
    face.set("used", i < static_cast<std::size_t>(p.faces_used));
    if (i < p.attention.size()) face.set(p.area_weights ? "weight" : "attention", p.attention[i]);
    if (i < p.expressions.size()) {
      json::Object e;
      for (std::size_t k = 0; k < 7; ++k) e.emplace_back(models::face_expression_labels()[k], p.expressions[i][k]);
      face.set("expression", std::move(e));
    }
    faces.push_back(std::move(face));
  }
  v.set("faces", std::move(faces));
  if (!p.note.empty()) v.set("note", p.note);
  v.set("error", nullptr);
  return v;
}

std::string csv_header() {
  return "image,label,p_negative,p_neutral,p_positive,logit_negative,logit_neutral,logit_positive,faces_found,faces_used,"
         "note,error\n";
}

std::string to_csv_row(const Prediction& p) {
  std::string row = csv_field(p.image) + ",";
  if (!p.error.empty()) return row.append(",,,,,,,,,,").append(csv_field(p.error)).append("\n");
  row += kClassNames[static_cast<std::size_t>(p.label)];
  for (double q : p.probs) row.append(",").append(number_text(q));
  for (double l : p.logits) row.append(",").append(number_text(l));
  return row.append(",").append(std::to_string(p.faces_found)).append(",").append(std::to_string(p.faces_used)).append(",")
      .append(csv_field(p.note)).append(",\n");
}

}  // namespace gler::models::pipeline
