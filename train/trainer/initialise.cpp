#include "train/trainer/initialise.h"

#include <map>
#include <sstream>

#include "core/error.h"
#include "weights_import/import_source.h"
#include "weights_import/tensor_data.h"

namespace gler::train {
namespace {

bool skipped(const std::string& name, const std::vector<std::string>& skip) {
  for (const std::string& p : skip)
    if (name.starts_with(p)) return true;
  return false;
}

}  // namespace

std::string initialise_from(const Module& model, const InitSource& source, const std::filesystem::path& init_dir) {
  const std::filesystem::path file =
      std::filesystem::path(source.file).is_absolute() ? std::filesystem::path(source.file) : init_dir / source.file;
  GLER_CHECK(std::filesystem::is_regular_file(file),
             "init file " << file.string() << " not found (the config's init names it; give --init-dir, or --no-init "
                                               "to start from the seed's random init)");
  const wi::StateDict sd = wi::read_source(file.string());

  std::map<std::string, Tensor> wanted;  // model tensors under `into`, not skipped
  for (const auto& [name, t] : model.state_dict())
    if (name.starts_with(source.into) && !skipped(name, source.skip)) wanted.emplace(name, t);

  NamedTensors values;
  std::ostringstream problems;
  for (const auto& [raw, data] : sd.entries) {
    const std::string name = wi::normalize_name(raw);
    if (!name.starts_with(source.select)) continue;
    const std::string dest = source.into + name.substr(source.select.size());
    if (skipped(dest, source.skip)) continue;
    const auto it = wanted.find(dest);
    if (it == wanted.end()) {
      problems << "\n  unexpected: " << name << " (the model has no " << dest << ")";
      continue;
    }
    Tensor t = wi::to_tensor(data);
    if (t.shape() != it->second.shape()) {
      problems << "\n  mis-shaped: " << name << " is " << t.shape().str() << ", " << dest << " is "
               << it->second.shape().str();
      continue;
    }
    values.emplace_back(dest, std::move(t));
    wanted.erase(it);
  }
  for (const auto& [name, t] : wanted) {
    // Files older than PyTorch 0.4.1 have no BatchNorm batch counters: they stay 0, as torch loads them.
    if (name.ends_with(".num_batches_tracked")) continue;
    problems << "\n  missing: " << name;
  }
  const std::string p = problems.str();
  GLER_CHECK(p.empty(), "init from " << file.string() << " (select '" << source.select << "', into '" << source.into
                                     << "') does not fit the model:" << p);
  GLER_CHECK(!values.empty(), "init from " << file.string() << ": no tensor named '" << source.select << "*'");
  model.load_state_dict(values, /*strict=*/false);
  std::ostringstream summary;
  summary << file.string() << ": " << values.size() << " tensors into " << (source.into.empty() ? "the model" : source.into);
  return summary.str();
}

}  // namespace gler::train
