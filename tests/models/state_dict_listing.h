// A module's state dict in the format of data/seed/state_dict_keys.txt: "name (d0, d1)", the shape
// as Python prints a tuple.
#pragma once
#include <string>
#include <vector>

#include "core/module.h"

namespace gler::test {

inline std::vector<std::string> state_dict_listing(const Module& m) {
  std::vector<std::string> out;
  for (const auto& [name, t] : m.state_dict()) {
    std::string s = name + " (";
    for (int i = 0; i < t.ndim(); ++i) s.append(i ? ", " : "").append(std::to_string(t.shape()[i]));
    out.push_back(s.append(t.ndim() == 1 ? ",)" : ")"));
  }
  return out;
}

}  // namespace gler::test
