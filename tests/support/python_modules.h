// Tests that compare with Python (Debian's python3-torch, -torchvision, -pil, -skimage) check that
// GLER_PYTHON can import what they need; without it they print "skipped: ..." and exit 77, which
// ctest reports as skipped.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <string>

namespace gler::test {

// Whether GLER_PYTHON can run `import <modules>` ("torch, torchvision").
inline bool python_has(const char* modules) {
  const std::string cmd = std::string(GLER_PYTHON) + " -c 'import " + modules + "' >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

// Skips the whole test (exit 77) unless python_has(modules).
inline void require_torch(const char* modules = "torch") {
  if (python_has(modules)) return;
  std::printf("skipped: %s cannot import %s\n", GLER_PYTHON, modules);
  std::exit(77);
}

}  // namespace gler::test
