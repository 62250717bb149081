#include "core/backend.h"

#include "core/cpu/cpu_backend.h"
#include "core/error.h"
#if defined(GLER_WITH_CUDA)
#include "cuda/cuda_backend.h"
#endif

namespace gler {

Backend& backend_for(Device device) {
  if (device == Device::CPU) {
    static CpuBackend cpu;
    return cpu;
  }
#if defined(GLER_WITH_CUDA)
  return cuda::backend();
#else
  GLER_FAIL("this gler was built without the CUDA backend (configure with -DGLER_CUDA=ON)");
#endif
}

bool cuda_available() {
#if defined(GLER_WITH_CUDA)
  return cuda::device_count() > 0;
#else
  return false;
#endif
}

}  // namespace gler
