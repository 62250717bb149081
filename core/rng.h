// Philox-4x32-10 (Salmon et al., SC'11): a counter-based generator, so element i of a random
// tensor is a pure function of (seed, offset + i/4, lane i%4) and CPU and CUDA agree exactly.
// Compiled by both the host compiler and nvcc (GLER_HD marks the functions for both).
#pragma once
#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define GLER_HD __host__ __device__
#else
#define GLER_HD
#endif

namespace gler::rng {

struct U32x4 {
  std::uint32_t v[4];
};

GLER_HD inline void mulhilo(std::uint32_t a, std::uint32_t b, std::uint32_t& hi, std::uint32_t& lo) {
  const std::uint64_t p = static_cast<std::uint64_t>(a) * b;
  hi = static_cast<std::uint32_t>(p >> 32);
  lo = static_cast<std::uint32_t>(p);
}

// Four 32-bit outputs for a 128-bit counter (here: 64-bit index, zero high words) and 64-bit key.
GLER_HD inline U32x4 philox(std::uint64_t seed, std::uint64_t counter) {
  std::uint32_t c0 = static_cast<std::uint32_t>(counter), c1 = static_cast<std::uint32_t>(counter >> 32);
  std::uint32_t c2 = 0, c3 = 0;
  std::uint32_t k0 = static_cast<std::uint32_t>(seed), k1 = static_cast<std::uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    std::uint32_t hi0, lo0, hi1, lo1;
    mulhilo(0xD2511F53u, c0, hi0, lo0);
    mulhilo(0xCD9E8D57u, c2, hi1, lo1);
    const std::uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return {{c0, c1, c2, c3}};
}

// Uniform in (0, 1]: never 0, so log() in Box-Muller is safe.
GLER_HD inline double uniform01(std::uint32_t x) { return (static_cast<double>(x) + 1.0) / 4294967296.0; }

// Element i of a uniform stream.
GLER_HD inline double uniform_at(std::uint64_t seed, std::uint64_t offset, std::uint64_t i) {
  const U32x4 r = philox(seed, offset + i / 4);
  return uniform01(r.v[i % 4]);
}

// Element i of a standard normal stream: Box-Muller on lanes (0,1) for even i%4 pairs, (2,3) for odd.
GLER_HD inline double normal_at(std::uint64_t seed, std::uint64_t offset, std::uint64_t i) {
  const U32x4 r = philox(seed, offset + i / 4);
  const unsigned lane = static_cast<unsigned>(i % 4);
  const unsigned pair = lane & 2u;
  const double u1 = uniform01(r.v[pair]), u2 = uniform01(r.v[pair + 1]);
  const double radius = sqrt(-2.0 * log(u1));
  const double angle = 6.283185307179586476925 * u2;
  return (lane & 1u) ? radius * sin(angle) : radius * cos(angle);
}

// One SplitMix64 step from state x (Steele et al., OOPSLA'14): a bijection on 64 bits that scatters
// nearby inputs, used to derive unrelated Philox keys from nearby (seed, stream) pairs.
GLER_HD inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace gler::rng
