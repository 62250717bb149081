// The random numbers of the synthetic dataset: Philox-4x32-10 (core/rng.h) keyed by the run's seed
// and a stream number (one per image), so each image is a pure function of (seed, its identity),
// however many others are drawn and in whatever order. Only integer arithmetic and IEEE divisions
// turn bits into numbers: no std:: distribution, whose results differ between standard libraries.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "core/rng.h"

namespace gler::synth {

class SynthRandom {
 public:
  SynthRandom(std::uint64_t seed, std::uint64_t stream);

  std::uint32_t next_u32();
  double uniform();                      // [0, 1), 53 random bits
  double uniform(double lo, double hi);  // [lo, hi)
  int integer(int lo, int hi);           // lo..hi, both included
  bool chance(double p);                 // true with probability p

  // Fisher-Yates.
  template <class T>
  void shuffle(std::vector<T>& items) {
    for (std::size_t i = items.size(); i > 1; --i)
      std::swap(items[i - 1], items[static_cast<std::size_t>(integer(0, static_cast<int>(i) - 1))]);
  }

 private:
  std::uint64_t key_;
  std::uint64_t counter_ = 0;
  rng::U32x4 block_{};
  int lane_ = 4;  // next unused lane of block_; 4: none left
};

}  // namespace gler::synth
