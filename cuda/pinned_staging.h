// Host<->device copies through a reusable pair of pinned (page-locked) buffers. Copies from
// pageable memory are staged by the driver anyway; doing it here in fixed chunks lets the host
// memcpy of one chunk overlap the DMA of the other, and keeps pinned memory bounded (2 chunks).
#pragma once
#include <cstddef>
#include <mutex>

#include <cuda_runtime.h>

namespace gler::cuda {

class PinnedStaging {
 public:
  static constexpr std::size_t kChunkBytes = std::size_t{4} << 20;

  PinnedStaging() = default;
  ~PinnedStaging();
  PinnedStaging(const PinnedStaging&) = delete;
  PinnedStaging& operator=(const PinnedStaging&) = delete;

  // Returns once the host memory may be reused; the device copy completes in stream order.
  void to_device(void* dst, const void* host_src, std::size_t bytes, cudaStream_t stream);
  // Returns when host_dst holds the data (after all work queued before it on `stream`).
  void to_host(void* host_dst, const void* src, std::size_t bytes, cudaStream_t stream);

 private:
  void ensure_buffers();

  std::mutex mu_;
  void* buf_[2] = {nullptr, nullptr};
  cudaEvent_t done_[2] = {nullptr, nullptr};  // the last DMA that used buf_[k] finished
};

}  // namespace gler::cuda
