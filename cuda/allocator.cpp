#include "cuda/allocator.h"

#include <algorithm>
#include <bit>

#include "cuda/check.h"

namespace gler::cuda {

std::size_t CachingAllocator::bucket_size(std::size_t bytes) {
  constexpr std::size_t kSmallStep = 512, kSmallLimit = std::size_t{1} << 20;
  if (bytes <= kSmallLimit) return std::max<std::size_t>(kSmallStep, (bytes + kSmallStep - 1) / kSmallStep * kSmallStep);
  const std::size_t top = std::bit_floor(bytes);
  const std::size_t step = top / 4;
  return (bytes + step - 1) / step * step;
}

CachingAllocator::~CachingAllocator() {
  // Errors are ignored here: at process exit the driver may already be shutting down.
  for (auto& [size, blocks] : free_)
    for (void* p : blocks) cudaFree(p);
}

void* CachingAllocator::allocate(std::size_t bytes) {
  if (bytes == 0) return nullptr;
  const std::size_t bucket = bucket_size(bytes);
  std::lock_guard lock(mu_);
  void* ptr = nullptr;
  auto it = free_.find(bucket);
  if (it != free_.end() && !it->second.empty()) {
    ptr = it->second.back();
    it->second.pop_back();
    cached_ -= bucket;
  } else {
    cudaError_t st = cudaMalloc(&ptr, bucket);
    if (st == cudaErrorMemoryAllocation) {
      cudaGetLastError();  // clear the error before retrying with the cache returned
      release_cached_locked();
      st = cudaMalloc(&ptr, bucket);
    }
    GLER_CHECK(st == cudaSuccess, "cudaMalloc(" << bucket << " bytes) failed: " << cudaGetErrorString(st)
                                                << " (" << in_use_ << " bytes in use by tensors)");
  }
  in_use_ += bytes;
  peak_ = std::max(peak_, in_use_);
  return ptr;
}

void CachingAllocator::deallocate(void* ptr, std::size_t bytes) {
  if (ptr == nullptr) return;
  const std::size_t bucket = bucket_size(bytes);
  std::lock_guard lock(mu_);
  free_[bucket].push_back(ptr);
  cached_ += bucket;
  in_use_ -= bytes;
}

std::size_t CachingAllocator::in_use_bytes() const {
  std::lock_guard lock(mu_);
  return in_use_;
}

std::size_t CachingAllocator::peak_bytes() const {
  std::lock_guard lock(mu_);
  return peak_;
}

void CachingAllocator::reset_peak_bytes() {
  std::lock_guard lock(mu_);
  peak_ = in_use_;
}

std::size_t CachingAllocator::cached_bytes() const {
  std::lock_guard lock(mu_);
  return cached_;
}

void CachingAllocator::release_cached() {
  std::lock_guard lock(mu_);
  release_cached_locked();
}

void CachingAllocator::release_cached_locked() {
  for (auto& [size, blocks] : free_) {
    for (void* p : blocks) GLER_CUDA_CHECK(cudaFree(p));
    blocks.clear();
  }
  cached_ = 0;
}

}  // namespace gler::cuda
