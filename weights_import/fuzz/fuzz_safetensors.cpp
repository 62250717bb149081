// libFuzzer target: a safetensors model file as a model load reads it: the header, dtypes,
// shapes and data offsets (parse_safetensors), the names as load_weights normalises them, and the
// arch the metadata names (or the one the names suggest) checked against every tensor's name and
// shape, as a strict load does.
#include <cstdint>

#include "core/error.h"
#include "weights_import/arch_specs.h"
#include "weights_import/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    // What load_model reads first, before it builds the model.
    gler::wi::parse_safetensors_metadata(data, size);
  } catch (const gler::Error&) {
  }
  try {
    gler::wi::StateDict file = gler::wi::parse_safetensors(data, size);
    gler::wi::StateDict sd;
    sd.metadata = file.metadata;
    for (auto& [name, t] : file.entries) sd.add(gler::wi::normalize_name(name), std::move(t));
    const auto arch = sd.metadata.find("arch");
    gler::wi::conform_to_arch(sd, arch != sd.metadata.end() ? arch->second : gler::wi::infer_arch(sd));
  } catch (const gler::Error&) {
  }
  return 0;
}
