#include <cstdlib>
#include <cstring>
#include <new>

#include "core/cpu/cpu_backend.h"

namespace gler {

// 64-byte alignment: whole cache lines and AVX-512 friendly rows for OpenBLAS. Large blocks go
// through the block cache (core/cpu/block_cache.h).
void* CpuBackend::allocate(std::size_t bytes) {
  const std::size_t rounded = ((bytes == 0 ? 1 : bytes) + 63) / 64 * 64;
  void* p = rounded >= BlockCache::kMinBytes ? large_blocks_.take(rounded) : std::aligned_alloc(64, rounded);
  if (!p) throw std::bad_alloc();
  const std::size_t now = in_use_ += bytes;
  std::size_t peak = peak_.load();
  while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
  }
  return p;
}

void CpuBackend::deallocate(void* ptr, std::size_t bytes) {
  if ((bytes + 63) / 64 * 64 >= BlockCache::kMinBytes)
    large_blocks_.give_back(ptr);
  else
    std::free(ptr);
  in_use_ -= bytes;
}

void CpuBackend::copy_to_host(void* host_dst, const void* src, std::size_t bytes) { std::memcpy(host_dst, src, bytes); }
void CpuBackend::copy_from_host(void* dst, const void* host_src, std::size_t bytes) { std::memcpy(dst, host_src, bytes); }
void CpuBackend::copy_device(void* dst, const void* src, std::size_t bytes) { std::memcpy(dst, src, bytes); }

}  // namespace gler
