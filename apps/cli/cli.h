// The CLI boundary shared by every gler_* main: a small argument parser and a wrapper that turns
// any exception into one `error: ...` line on stderr and exit status 2 (CLI.md contract).
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/device.h"

namespace gler::cli {

class Args {
 public:
  // `flags` take no value (e.g. "--softmax"); every other "--name" takes the next argument or
  // "--name=value". Arguments not starting with "--" are positional. Unknown options throw.
  Args(int argc, char** argv, const std::vector<std::string>& options, const std::vector<std::string>& flags);

  bool has(const std::string& name) const;
  std::string get(const std::string& name, const std::string& fallback) const;
  std::optional<std::string> get(const std::string& name) const;
  std::string require(const std::string& name) const;
  double get_double(const std::string& name, double fallback) const;
  long long get_int(const std::string& name, long long fallback) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> flags_;
  std::vector<std::string> positional_;
};

// The --device option of every tool: "cpu", "cuda" or "cuda:N", checked against what this build
// and machine have (a clear error otherwise). Without the option: cuda:0 when a GPU is present,
// else the CPU.
Device device_option(const Args& args);

// Splits "a,b,c" into its parts (empty input gives no parts).
std::vector<std::string> split_list(const std::string& s, char sep = ',');

// Runs body; prints usage on --help/-h (exit 0) and maps every exception, of any type, to one
// `error: ...` line and exit 2.
int run_main(int argc, char** argv, const std::string& usage, const std::function<int(int, char**)>& body);

}  // namespace gler::cli
