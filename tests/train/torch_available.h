// Parity tests here need /usr/bin/python3 with torch; without it they print "skipped: ..." and
// exit 77, which ctest reports as skipped.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <string>

namespace gler::test {

inline void require_torch(const char* modules = "torch") {
  const std::string cmd = std::string(GLER_PYTHON) + " -c 'import " + modules + "' 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) {
    std::printf("skipped: %s cannot import %s\n", GLER_PYTHON, modules);
    std::exit(77);
  }
}

}  // namespace gler::test
