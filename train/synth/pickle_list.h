// The seed's val_list / test_list files (SEED_SPEC §1.1): a Python list of str, pickled as
// Python 3's pickle.dumps(names, protocol=2) pickles it, byte for byte.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace gler::synth {

// Names must be valid UTF-8 (they are written as BINUNICODE).
std::vector<std::uint8_t> pickle_str_list(const std::vector<std::string>& names);

}  // namespace gler::synth
