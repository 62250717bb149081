// Device memory for tensors and workspaces: plain cudaMalloc behind size-bucketed free lists.
// Freed blocks are kept and handed out again without a cudaMalloc/cudaFree round trip (both
// synchronise the device). Reuse needs no events because every kernel runs on the backend's
// single stream: work queued on a block before it was freed finishes before work queued after
// it was handed out again. Never managed memory: every host access goes through an explicit copy.
#pragma once
#include <cstddef>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace gler::cuda {

class CachingAllocator {
 public:
  CachingAllocator() = default;
  ~CachingAllocator();
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  // nullptr for 0 bytes. On out-of-memory the cache is returned to the driver and the
  // allocation retried once before the error is raised.
  void* allocate(std::size_t bytes);
  void deallocate(void* ptr, std::size_t bytes);

  // Bytes requested by live allocations (not their bucket sizes), as the CPU backend counts.
  std::size_t in_use_bytes() const;
  std::size_t peak_bytes() const;
  void reset_peak_bytes();
  // Bytes held in the free lists.
  std::size_t cached_bytes() const;
  // cudaFree every cached block.
  void release_cached();

  // The size class of a request: 512-byte steps up to 1 MiB, then four steps per power of two
  // (at most 25% slack), so similar tensor sizes share a free list.
  static std::size_t bucket_size(std::size_t bytes);

 private:
  void release_cached_locked();

  mutable std::mutex mu_;
  std::unordered_map<std::size_t, std::vector<void*>> free_;  // bucket size -> blocks
  std::size_t in_use_ = 0, peak_ = 0, cached_ = 0;
};

// A scratch allocation (cuDNN workspace, error flag) returned to the allocator at scope exit.
class DeviceBuffer {
 public:
  DeviceBuffer(CachingAllocator& alloc, std::size_t bytes) : alloc_(alloc), bytes_(bytes), ptr_(alloc.allocate(bytes)) {}
  ~DeviceBuffer() { alloc_.deallocate(ptr_, bytes_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  void* get() const { return ptr_; }
  std::size_t bytes() const { return bytes_; }

 private:
  CachingAllocator& alloc_;
  std::size_t bytes_;
  void* ptr_;
};

}  // namespace gler::cuda
