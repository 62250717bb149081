// libFuzzer target: a TF.js weights manifest and its shard as gler_import reads them. The input is
// the manifest's JSON, a NUL byte, then the shard bytes, which every path the manifest names reads
// (so multi-shard groups concatenate copies of them); then the conversion to PyTorch's layouts and
// the arch checks, as import_checkpoint does.
#include <cstdint>
#include <cstring>
#include <string_view>

#include "core/error.h"
#include "weights_import/arch_specs.h"
#include "weights_import/tfjs_manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto* nul = static_cast<const std::uint8_t*>(std::memchr(data, 0, size));
  const std::size_t manifest_size = nul ? static_cast<std::size_t>(nul - data) : size;
  const std::vector<std::uint8_t> shard(nul ? nul + 1 : data + size, data + size);
  try {
    const std::string_view manifest(reinterpret_cast<const char*>(data), manifest_size);
    gler::wi::StateDict sd = gler::wi::tfjs_to_torch(
        gler::wi::parse_tfjs_manifest(manifest, [&](const std::string&) { return shard; }));
    gler::wi::conform_to_arch(sd, gler::wi::infer_arch(sd));
  } catch (const gler::Error&) {
  }
  return 0;
}
