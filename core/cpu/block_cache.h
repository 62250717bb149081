// Large host blocks kept for reuse. glibc serves blocks this big with mmap and returns them to
// the system on free, so every new tensor of a repeated shape paid a page fault per 4 KiB on
// first touch (a quarter of the time of an MTCNN detection). Freed blocks wait here, best fit
// first, up to a byte budget; the oldest-freed go back to the system beyond it.
#pragma once
#include <cstddef>
#include <list>
#include <map>
#include <mutex>
#include <unordered_map>

namespace gler {

class BlockCache {
 public:
  static constexpr std::size_t kMinBytes = std::size_t{1} << 18;  // smaller blocks: malloc's heap is cheap
  static constexpr std::size_t kBudgetBytes = std::size_t{1} << 30;

  BlockCache() = default;
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;
  ~BlockCache();

  // A 64-byte-aligned block of at least `bytes` (>= kMinBytes): cached when one fits in at most
  // 5/4 of the size, else fresh. Throws std::bad_alloc when even a fresh one fails.
  void* take(std::size_t bytes);
  void give_back(void* block);

 private:
  void release_oldest_until(std::size_t budget);  // caller holds mutex_

  std::mutex mutex_;
  std::unordered_map<void*, std::size_t> size_of_;  // every block made here, cached or in use
  std::multimap<std::size_t, void*> free_;          // cached blocks by size
  std::list<void*> freed_order_;                    // cached blocks, oldest first
  std::size_t cached_bytes_ = 0;
};

}  // namespace gler
