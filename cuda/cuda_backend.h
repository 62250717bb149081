// Entry points of the CUDA backend; no CUDA headers here on purpose. The core never includes this:
// cuda/register.cpp hands these functions to the core's backend registry (core/backend.h).
#pragma once
#include "core/backend.h"

namespace gler::cuda {

// The backend of CUDA device `ordinal` (created on first use); throws when it does not exist.
Backend& backend(int ordinal);
// Number of visible CUDA devices (counted once); 0 when there is no driver or GPU.
int device_count();

}  // namespace gler::cuda
