#include "train/synth/synth_random.h"

#include <algorithm>

#include "core/error.h"

namespace gler::synth {

// splitmix64 (core/rng.h): nearby (seed, stream) pairs get unrelated Philox keys.
SynthRandom::SynthRandom(std::uint64_t seed, std::uint64_t stream)
    : key_(rng::splitmix64(rng::splitmix64(seed) ^ stream)) {}

std::uint32_t SynthRandom::next_u32() {
  if (lane_ == 4) {
    block_ = rng::philox(key_, counter_++);
    lane_ = 0;
  }
  return block_.v[lane_++];
}

double SynthRandom::uniform() {
  const std::uint64_t bits = (static_cast<std::uint64_t>(next_u32()) << 32 | next_u32()) >> 11;
  return static_cast<double>(bits) / 9007199254740992.0;  // 2^53
}

double SynthRandom::uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

int SynthRandom::integer(int lo, int hi) {
  GLER_CHECK(lo <= hi, "SynthRandom::integer: empty range " << lo << ".." << hi);
  const double span = static_cast<double>(hi) - lo + 1.0;
  return std::min(hi, lo + static_cast<int>(uniform() * span));
}

bool SynthRandom::chance(double p) { return uniform() < p; }

}  // namespace gler::synth
