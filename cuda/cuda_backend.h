// Entry points of the CUDA backend that the core sees; no CUDA headers here on purpose.
#pragma once
#include "core/backend.h"

namespace gler::cuda {

// The backend of the current CUDA device (created on first use); throws when no GPU is present.
Backend& backend();
// Number of visible CUDA devices; 0 when there is no driver or GPU.
int device_count();

}  // namespace gler::cuda
