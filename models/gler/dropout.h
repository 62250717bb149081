// Dropout inside a GLER model's forward: the identity in eval mode, where forward may be given no
// generator; in training the masks are drawn from the generator forward was given.
#pragma once
#include "core/error.h"
#include "layers/dropout.h"

namespace gler::models {

inline Tensor apply_dropout(const layers::Dropout& dropout, const Tensor& x, Generator* gen, const char* model) {
  if (!dropout.is_training()) return x;
  GLER_CHECK(gen != nullptr, model << " in training mode needs a Generator for its dropout masks");
  return dropout.forward(x, *gen);
}

}  // namespace gler::models
