// libFuzzer target: the pickle VM, then the state-dict walk over whatever it built.
#include <cstdint>

#include "core/error.h"
#include "weights_import/pickle_vm.h"
#include "weights_import/state_dict.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    gler::wi::PickleLimits limits;
    limits.max_values = 1u << 16;
    gler::wi::Pickle p = gler::wi::unpickle(data, size, limits);
    gler::wi::collect_tensors(*p.root);
  } catch (const gler::Error&) {
  }
  return 0;
}
