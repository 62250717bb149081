// libFuzzer target: every file format gler_import reads (PyTorch legacy/zip, .npy, .npz,
// safetensors), from the first byte, as read_source sees a file.
#include <cstdint>

#include "core/error.h"
#include "weights_import/arch_specs.h"
#include "weights_import/import_source.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    gler::wi::StateDict sd = gler::wi::read_source_bytes(data, size, "fuzz.npy");
    gler::wi::infer_arch(sd);
  } catch (const gler::Error&) {
  }
  return 0;
}
