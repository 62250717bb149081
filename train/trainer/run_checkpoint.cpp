#include "train/trainer/run_checkpoint.h"

#include "core/error.h"
#include "io/json.h"
#include "weights_import/safetensors.h"
#include "weights_import/tensor_data.h"

namespace gler::train {
namespace {

constexpr const char* kKind = "gler_train checkpoint";
const std::string kModel = "model.", kOptimizer = "optimizer.";

json::Value position_json(const RunPosition& p) {
  json::Value out;
  out.set("epoch", p.epoch);
  out.set("next_batch", static_cast<long long>(p.next_batch));
  out.set("loss_sum", p.loss_sum);
  out.set("correct", static_cast<long long>(p.correct));
  out.set("images", static_cast<long long>(p.images));
  out.set("skipped", static_cast<long long>(p.skipped));
  out.set("steps", static_cast<long long>(p.steps));
  out.set("angle_iteration", static_cast<long long>(p.angle_iteration));
  out.set("seconds", p.seconds);
  out.set("best_accuracy", p.best_accuracy);
  out.set("best_selection", p.best_selection);
  out.set("best_epoch", p.best_epoch);
  json::Array matrix;
  for (const auto& row : p.best_evaluation.confusion) {
    json::Array r;
    for (const std::size_t n : row) r.emplace_back(static_cast<long long>(n));
    matrix.emplace_back(std::move(r));
  }
  out.set("best_confusion", std::move(matrix));
  json::Array records;
  for (const EpochRecord& r : p.records) records.push_back(to_json(r));
  out.set("records", std::move(records));
  return out;
}

RunPosition position_from_json(const json::Value& v) {
  RunPosition p;
  p.epoch = static_cast<int>(v.at("epoch").as_int());
  p.next_batch = v.at("next_batch").as_int();
  p.loss_sum = v.at("loss_sum").as_number();
  p.correct = v.at("correct").as_int();
  p.images = v.at("images").as_int();
  p.skipped = v.at("skipped").as_int();
  p.steps = v.at("steps").as_int();
  p.angle_iteration = v.at("angle_iteration").as_int();
  p.seconds = v.at("seconds").as_number();
  p.best_accuracy = v.at("best_accuracy").as_number();
  p.best_selection = v.at("best_selection").as_number();
  p.best_epoch = static_cast<int>(v.at("best_epoch").as_int());
  const json::Array& matrix = v.at("best_confusion").as_array();
  GLER_CHECK(matrix.size() == ensemble::kNumClasses, "best_confusion must be 3 x 3");
  for (std::size_t t = 0; t < matrix.size(); ++t) {
    const json::Array& row = matrix[t].as_array();
    GLER_CHECK(row.size() == ensemble::kNumClasses, "best_confusion must be 3 x 3");
    for (std::size_t c = 0; c < row.size(); ++c) {
      const long long n = row[c].as_int();
      GLER_CHECK(n >= 0, "best_confusion counts must be non-negative");
      p.best_evaluation.confusion[t][c] = static_cast<std::size_t>(n);
      p.best_evaluation.total += static_cast<std::size_t>(n);
      if (t == c) p.best_evaluation.correct += static_cast<std::size_t>(n);
    }
  }
  for (const json::Value& r : v.at("records").as_array()) p.records.push_back(epoch_record_from_json(r));
  GLER_CHECK(p.epoch >= 0 && p.next_batch >= 0 && p.images >= 0 && p.steps >= 0, "negative counters");
  return p;
}

}  // namespace

void save_run_checkpoint(const std::filesystem::path& path, const Module& model, const Optimizer& optimizer,
                         const RunPosition& position, const std::string& run) {
  wi::StateDict sd;
  for (const auto& [name, t] : model.state_dict()) sd.add(kModel + name, wi::to_tensor_data(t));
  for (const auto& [name, t] : optimizer.state_dict()) sd.add(kOptimizer + name, wi::to_tensor_data(t));
  sd.metadata = {{"gler_train", kKind}, {"run", run}, {"position", json::dump(position_json(position))}};
  wi::write_safetensors(path.string(), sd);
}

LoadedCheckpoint load_run_checkpoint(const std::filesystem::path& path, const Module& model, Optimizer& optimizer) {
  try {
    const wi::StateDict sd = wi::read_safetensors(path.string());
    const auto kind = sd.metadata.find("gler_train");
    GLER_CHECK(kind != sd.metadata.end() && kind->second == kKind && sd.metadata.contains("run") &&
                   sd.metadata.contains("position"),
               "not a gler_train checkpoint");
    LoadedCheckpoint out;
    out.run = sd.metadata.at("run");
    out.position = position_from_json(json::parse(sd.metadata.at("position")));
    NamedTensors weights, state;
    for (const auto& [name, data] : sd.entries) {
      if (name.starts_with(kModel)) {
        weights.emplace_back(name.substr(kModel.size()), wi::to_tensor(data));
      } else if (name.starts_with(kOptimizer)) {
        state.emplace_back(name.substr(kOptimizer.size()), wi::to_tensor(data));
      } else {
        GLER_FAIL("unexpected tensor " << name);
      }
    }
    model.load_state_dict(weights);
    optimizer.load_state_dict(state);
    return out;
  } catch (const Error& e) {
    GLER_FAIL("cannot resume from " << path.string() << ": " << e.what());
  }
}

}  // namespace gler::train
