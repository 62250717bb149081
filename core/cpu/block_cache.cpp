#include "core/cpu/block_cache.h"

#include <algorithm>
#include <cstdlib>
#include <new>

namespace gler {

BlockCache::~BlockCache() {
  for (const auto& [size, block] : free_) std::free(block);
}

void* BlockCache::take(std::size_t bytes) {
  const std::size_t size = (bytes + 4095) / 4096 * 4096;
  {
    const std::lock_guard lock(mutex_);
    const auto it = free_.lower_bound(size);
    if (it != free_.end() && it->first <= size + size / 4) {
      void* block = it->second;
      cached_bytes_ -= it->first;
      free_.erase(it);
      freed_order_.remove(block);
      return block;
    }
  }
  void* block = std::aligned_alloc(64, size);
  if (!block) {
    // Memory is short: hand every cached block back to the system and try once more.
    const std::lock_guard lock(mutex_);
    release_oldest_until(0);
    block = std::aligned_alloc(64, size);
    if (!block) throw std::bad_alloc();
  }
  const std::lock_guard lock(mutex_);
  size_of_[block] = size;
  return block;
}

void BlockCache::give_back(void* block) {
  const std::lock_guard lock(mutex_);
  const std::size_t size = size_of_.at(block);
  free_.emplace(size, block);
  freed_order_.push_back(block);
  cached_bytes_ += size;
  release_oldest_until(kBudgetBytes);
}

void BlockCache::release_oldest_until(std::size_t budget) {
  while (cached_bytes_ > budget && !freed_order_.empty()) {
    void* block = freed_order_.front();
    freed_order_.pop_front();
    const std::size_t size = size_of_.at(block);
    const auto range = free_.equal_range(size);
    free_.erase(std::find_if(range.first, range.second, [&](const auto& e) { return e.second == block; }));
    size_of_.erase(block);
    cached_bytes_ -= size;
    std::free(block);
  }
}

}  // namespace gler
