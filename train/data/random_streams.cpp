#include "train/data/random_streams.h"

#include <algorithm>

#include "core/error.h"
#include "core/rng.h"

namespace gler::train {

std::uint64_t derive_seed(std::uint64_t seed, std::int64_t epoch, std::uint64_t stream) {
  using rng::splitmix64;
  return splitmix64(splitmix64(splitmix64(seed) ^ static_cast<std::uint64_t>(epoch)) ^ stream);
}

double uniform01(Generator& gen) {
  const rng::U32x4 r = rng::philox(gen.seed(), gen.advance(4));
  const std::uint32_t a = r.v[0] >> 5, b = r.v[1] >> 6;
  return (static_cast<double>(a) * 67108864.0 + static_cast<double>(b)) / 9007199254740992.0;
}

std::uint64_t uniform_below(Generator& gen, std::uint64_t n) {
  GLER_CHECK(n >= 1, "uniform_below: empty range");
  return std::min(static_cast<std::uint64_t>(uniform01(gen) * static_cast<double>(n)), n - 1);
}

}  // namespace gler::train
