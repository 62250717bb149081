// The loader's random numbers, each a pure function of (seed, epoch, what it is for), so batches
// depend neither on the worker count, nor on prefetching, nor on where a run was resumed. They
// come from gler's Philox generator (core/init.h, core/rng.h), keyed by a seed derived as below.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/init.h"

namespace gler::train {

// key = splitmix64(splitmix64(splitmix64(seed) ^ epoch) ^ stream) (core/rng.h), epoch as two's
// complement: consecutive epochs and positions give unrelated Philox keys.
std::uint64_t derive_seed(std::uint64_t seed, std::int64_t epoch, std::uint64_t stream);
// The epoch's order: stream 2^64 − 1 (no example position reaches it).
inline std::uint64_t shuffle_seed(std::uint64_t seed, std::int64_t epoch) { return derive_seed(seed, epoch, ~std::uint64_t{0}); }
// The augmentation of the example at `position` of the example list: stream = position.
inline std::uint64_t example_seed(std::uint64_t seed, std::int64_t epoch, std::size_t position) {
  return derive_seed(seed, epoch, position);
}

// Uniform in [0, 1) with 53 random bits, built as Python's random.random() builds it (27 high bits
// of one 32-bit word, 26 of the next), from lanes 0 and 1 of the generator's next Philox counter.
double uniform01(Generator& gen);
// Uniform integer in [0, n), n >= 1: floor(uniform01 · n).
std::uint64_t uniform_below(Generator& gen, std::uint64_t n);

}  // namespace gler::train
