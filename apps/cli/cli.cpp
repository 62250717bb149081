#include "apps/cli/cli.h"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <new>

#include "core/backend.h"
#include "core/error.h"

namespace gler::cli {

Args::Args(int argc, char** argv, const std::vector<std::string>& options, const std::vector<std::string>& flags) {
  auto known = [](const std::vector<std::string>& list, const std::string& name) {
    for (const auto& o : list)
      if (o == name) return true;
    return false;
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0 || a == "--") {
      positional_.push_back(a);
      continue;
    }
    std::string name = a, value;
    bool inline_value = false;
    if (auto eq = a.find('='); eq != std::string::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      inline_value = true;
    }
    if (known(flags, name)) {
      GLER_CHECK(!inline_value, name << " takes no value");
      flags_.insert(name);
    } else if (known(options, name)) {
      if (!inline_value) {
        GLER_CHECK(i + 1 < argc, name << " needs a value");
        value = argv[++i];
      }
      values_[name] = value;
    } else {
      GLER_FAIL("unknown option " << name << " (see --help)");
    }
  }
}

bool Args::has(const std::string& name) const { return flags_.count(name) != 0 || values_.count(name) != 0; }

std::string Args::get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

std::optional<std::string> Args::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Args::require(const std::string& name) const {
  auto it = values_.find(name);
  GLER_CHECK(it != values_.end(), "missing required option " << name << " (see --help)");
  return it->second;
}

double Args::get_double(const std::string& name, double fallback) const {
  auto v = get(name);
  if (!v) return fallback;
  char* end = nullptr;
  double d = std::strtod(v->c_str(), &end);
  GLER_CHECK(end && *end == '\0' && !v->empty(), name << " expects a number, got '" << *v << "'");
  return d;
}

long long Args::get_int(const std::string& name, long long fallback) const {
  auto v = get(name);
  if (!v) return fallback;
  char* end = nullptr;
  long long d = std::strtoll(v->c_str(), &end, 10);
  GLER_CHECK(end && *end == '\0' && !v->empty(), name << " expects an integer, got '" << *v << "'");
  return d;
}

std::vector<std::string> split_list(const std::string& s, char sep) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  std::size_t start = 0;
  while (true) {
    auto pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  return out;
}

Device device_option(const Args& args) {
  const std::optional<std::string> text = args.get("--device");
  if (!text) return cuda_available() ? Device::CUDA : Device::CPU;
  const Device device = parse_device(*text);
  check_device_usable(device);
  return device;
}

int run_main(int argc, char** argv, const std::string& usage, const std::function<int(int, char**)>& body) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << usage;
      if (!usage.empty() && usage.back() != '\n') std::cout << '\n';
      return 0;
    }
  }
  try {
    return body(argc, argv);
  } catch (const std::bad_alloc&) {
    std::cerr << "error: out of memory\n";
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "error: unexpected failure (an exception that is not a std::exception)\n";
  }
  return 2;
}

}  // namespace gler::cli
