// core/cpu/block_cache: freed large blocks come back for requests they fit (within 5/4), aligned,
// never for a larger request; tensors through the CPU backend reuse them.
#include <doctest/doctest.h>

#include <cstdint>

#include "core/cpu/block_cache.h"
#include "core/tensor.h"

using gler::BlockCache;

TEST_CASE("BlockCache hands a freed block back for a request it fits, and only then") {
  BlockCache cache;
  const std::size_t size = BlockCache::kMinBytes * 4;
  void* a = cache.take(size);
  CHECK(reinterpret_cast<std::uintptr_t>(a) % 64 == 0);
  cache.give_back(a);
  CHECK(cache.take(size - 4096) == a);  // fits: within 5/4 of the request
  cache.give_back(a);
  void* small = cache.take(size / 2);  // a has 2x: too wasteful, a fresh block
  CHECK(small != a);
  void* larger = cache.take(size * 2);  // a is too small
  CHECK(larger != a);
  CHECK(cache.take(size) == a);
  cache.give_back(a);
  cache.give_back(small);
  cache.give_back(larger);
}

TEST_CASE("Large CPU tensors reuse freed storage") {
  const std::int64_t n = static_cast<std::int64_t>(BlockCache::kMinBytes);  // floats: 4x the threshold
  const void* first = nullptr;
  {
    const gler::Tensor t = gler::Tensor::zeros({n});
    first = t.raw();
  }
  const gler::Tensor again = gler::Tensor::empty({n});
  CHECK(again.raw() == first);
}
