// What the gler_train CLI tests share: running the tools, a small synthetic dataset, and reading
// the run's files.
#pragma once
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tests/support/run_cli.h"
#include "weights_import/safetensors.h"

namespace gler::test {

inline std::string tool(const std::string& name) { return std::string(GLER_BIN_DIR) + "/" + name; }
inline std::string config_path(const std::string& name) { return std::string(GLER_SOURCE_DIR) + "/configs/" + name + ".json"; }

// gler_train with the given arguments (CPU, no progress bar, 2 threads for repeatable numbers).
inline CliRun train_cli(const std::string& args) {
  return run_cli(tool("gler_train") + " --device cpu --threads 2 --no-progress " + args);
}

// A gler_synth dataset in `dir` (made once per test process); `extra`: more gler_synth options.
inline void make_dataset(const std::filesystem::path& dir, int train, int val, int seed, const std::string& extra = "") {
  if (std::filesystem::exists(dir / "gler_synth.json")) return;
  const CliRun r = run_cli(tool("gler_synth") + " --device cpu --no-progress --align sphereface --out " + dir.string() +
                           " --train " + std::to_string(train) + " --val " + std::to_string(val) + " --seed " +
                           std::to_string(seed) + " " + extra);
  if (r.status != 0) throw std::runtime_error("gler_synth failed: " + r.out);
}

// name -> raw bytes of every tensor of a safetensors file whose name starts with `prefix`.
inline std::map<std::string, std::vector<std::uint8_t>> tensor_bytes(const std::filesystem::path& file,
                                                                    const std::string& prefix = "") {
  std::map<std::string, std::vector<std::uint8_t>> out;
  for (const auto& [name, t] : wi::read_safetensors(file.string()).entries)
    if (name.starts_with(prefix)) out[name] = t.data;
  return out;
}

}  // namespace gler::test
