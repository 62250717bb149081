// gler_gradcheck: runs every registered case and prints one line per op with its max error.
// Usage: gler_gradcheck [substring]   (only cases whose name contains it)
#include <cstdio>
#include <exception>
#include <string>

#include "tests/gradcheck/gradcheck.h"

int main(int argc, char** argv) {
  if (argc > 2) {
    std::fprintf(stderr, "error: gler_gradcheck takes at most one FILTER argument (see --help)\n");
    return 2;
  }
  const std::string filter = argc > 1 ? argv[1] : "";
  if (filter == "--help" || filter == "-h") {
    std::printf("gler_gradcheck [FILTER]\n\nRuns every finite-difference gradient check (f64, CPU) whose name contains\n"
                "FILTER and prints one line per case with its largest errors; exit 1 if any fails.\n");
    return 0;
  }
  if (filter.starts_with("-")) {
    std::fprintf(stderr, "error: unknown option %s (see --help)\n", filter.c_str());
    return 2;
  }
  int passed = 0, failed = 0;
  std::printf("%-44s %8s %12s %12s  %s\n", "case", "elements", "max_abs_err", "max_rel_err", "result");
  for (const auto& c : gler::gradcheck::registry()) {
    if (!filter.empty() && c.name.find(filter) == std::string::npos) continue;
    try {
      const auto r = c.run();
      std::printf("%-44s %8lld %12.3e %12.3e  %s%s%s\n", c.name.c_str(), static_cast<long long>(r.checked),
                  r.max_abs_error, r.max_rel_error, r.ok ? "PASS" : "FAIL", r.ok ? "" : "  ", r.worst.c_str());
      (r.ok ? passed : failed)++;
    } catch (const std::exception& e) {
      std::printf("%-44s %8s %12s %12s  FAIL  %s\n", c.name.c_str(), "-", "-", "-", e.what());
      ++failed;
    }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 && passed > 0 ? 0 : 1;
}
