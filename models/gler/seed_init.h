// The seed's explicit initialisation of the layers it adds to its fusion models (SEED_SPEC §4.0):
// nn.init.kaiming_normal_ weight (std √(2/fan_in)), bias filled with 0.01.
#pragma once
#include "layers/linear.h"

namespace gler::models {

inline void seed_kaiming_init(const layers::Linear& layer, Generator& gen) {
  kaiming_normal_(layer.weight, gen);
  layer.bias.fill_(0.01);
}

}  // namespace gler::models
