// Helpers shared by the import tests: temp dirs, commands, manifests written by make_checkpoints.py.
#pragma once
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "weights_import/state_dict.h"

namespace gler::wi::test {

namespace fs = std::filesystem;

inline fs::path make_temp_dir(const std::string& tag) {
  std::string tmpl = (fs::temp_directory_path() / ("gler_" + tag + "_XXXXXX")).string();
  char* made = mkdtemp(tmpl.data());
  if (!made) throw std::runtime_error("mkdtemp failed");
  return made;
}

// Runs a shell command; returns its exit status (or -1 when it did not exit normally).
inline int run_command(const std::string& cmd) {
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

inline std::string read_text(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The message of the gler::Error that `f` throws; "" when it throws none.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const gler::Error& e) {
    return e.what();
  }
  return "";
}

inline std::uint32_t crc_of(const std::vector<std::uint8_t>& d) {
  uLong c = crc32(0L, Z_NULL, 0);
  return static_cast<std::uint32_t>(d.empty() ? c : crc32(c, d.data(), static_cast<uInt>(d.size())));
}

// "name dtype 2,3 crc" per line, in state-dict order.
inline std::string describe(const StateDict& sd, bool normalize) {
  std::string out;
  for (const auto& [name, t] : sd.entries) {
    out += normalize ? normalize_name(name) : name;
    out += " " + t.dtype + " ";
    for (std::size_t i = 0; i < t.shape.size(); ++i) {
      if (i) out += ',';
      out += std::to_string(t.shape[i]);
    }
    out += ' ';
    out += std::to_string(crc_of(t.data));
    out += '\n';
  }
  return out;
}

}  // namespace gler::wi::test
