// Registers the CUDA backend with the core when the library is loaded. Executables link gler_cuda
// whole (cmake: gler_runtime), so this object is never dropped by the linker.
#include "cuda/cuda_backend.h"

namespace gler::cuda {
namespace {

const bool registered = [] {
  register_backend(DeviceKind::CUDA, BackendProvider{.get = &backend, .count = &device_count});
  return true;
}();

}  // namespace
}  // namespace gler::cuda
