// Runs a command line (a gler_* tool) and captures its exit status and output, for CLI tests.
#pragma once
#include <sys/wait.h>

#include <cstdio>
#include <stdexcept>
#include <string>

namespace gler::test {

struct CliRun {
  int status;       // exit status; -1 when the process died from a signal
  std::string out;  // stdout and stderr together
  bool has(const std::string& s) const { return out.find(s) != std::string::npos; }
};

inline CliRun run_cli(const std::string& command) {
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) throw std::runtime_error("cannot run " + command);
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int st = ::pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

}  // namespace gler::test
