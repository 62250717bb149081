#include "train/optim/param_group.h"

#include <algorithm>

namespace gler::train {

NamedTensors parameters_under(const NamedTensors& named, const std::string& prefix) {
  NamedTensors out;
  for (const auto& entry : named)
    if (entry.first.starts_with(prefix)) out.push_back(entry);
  return out;
}

NamedTensors parameters_outside(const NamedTensors& named, const std::vector<std::string>& prefixes) {
  NamedTensors out;
  for (const auto& entry : named)
    if (std::none_of(prefixes.begin(), prefixes.end(),
                     [&](const std::string& p) { return entry.first.starts_with(p); }))
      out.push_back(entry);
  return out;
}

}  // namespace gler::train
