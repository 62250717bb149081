// A parameter group: tensors that share a learning rate and a weight decay (torch.optim's
// param_groups). Parameters are named (Module::named_parameters), so optimiser state is saved and
// restored by name, independent of the order the groups were listed in.
#pragma once
#include <string>

#include "core/module.h"

namespace gler::train {

struct ParamGroup {
  NamedTensors params;
  double lr = 0;            // 0 freezes the group: step() skips it entirely (no update, no state)
  double weight_decay = 0;  // L2, added to the gradient as torch.optim does (not AdamW's decoupled decay)
};

// The entries of `named` whose names start with `prefix` ("align_model." selects a branch), to
// give a part of a model its own group.
NamedTensors parameters_under(const NamedTensors& named, const std::string& prefix);
// The entries whose names start with none of `prefixes`: the rest of the model.
NamedTensors parameters_outside(const NamedTensors& named, const std::vector<std::string>& prefixes);

}  // namespace gler::train
