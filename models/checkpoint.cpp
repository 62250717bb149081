#include "models/checkpoint.h"

#include <set>

#include "core/error.h"
#include "weights_import/import_source.h"
#include "weights_import/safetensors.h"
#include "weights_import/tensor_data.h"

namespace gler::models {

std::map<std::string, std::string> load_weights(const Module& model, const std::string& path,
                                                const std::string& prefix) {
  const wi::StateDict sd = wi::read_source(path);
  NamedTensors values;
  for (const auto& [name, data] : sd.entries) {
    if (!name.starts_with(prefix)) continue;
    values.emplace_back(wi::normalize_name(name.substr(prefix.size())), wi::to_tensor(data));
  }
  GLER_CHECK(!values.empty(), path << " holds no tensors" << (prefix.empty() ? "" : " named " + prefix + "*"));
  // Files written before PyTorch 0.4.1 (the model zoo's, the seed's) have no BatchNorm batch
  // counters; PyTorch loads them with the counter at 0, and so does this.
  std::set<std::string> given;
  for (const auto& [name, t] : values) given.insert(name);
  for (const auto& [name, t] : model.state_dict())
    if (name.ends_with(".num_batches_tracked") && !given.contains(name))
      values.emplace_back(name, Tensor::scalar(0, DType::i64));
  try {
    model.load_state_dict(values);
  } catch (const Error& e) {
    GLER_FAIL(path << ": " << e.what());
  }
  return sd.metadata;
}

void save_weights(const Module& model, const std::string& path, const std::map<std::string, std::string>& metadata) {
  wi::StateDict sd;
  for (const auto& [name, t] : model.state_dict()) sd.add(name, wi::to_tensor_data(t));
  sd.metadata = metadata;
  wi::write_safetensors(path, sd);
}

}  // namespace gler::models
