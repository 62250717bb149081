#include "cuda/pinned_staging.h"

#include <algorithm>
#include <cstring>

#include "cuda/check.h"

namespace gler::cuda {

PinnedStaging::~PinnedStaging() {
  for (int k = 0; k < 2; ++k) {
    if (done_[k]) cudaEventDestroy(done_[k]);
    if (buf_[k]) cudaFreeHost(buf_[k]);
  }
}

void PinnedStaging::ensure_buffers() {
  for (int k = 0; k < 2; ++k) {
    if (!buf_[k]) GLER_CUDA_CHECK(cudaMallocHost(&buf_[k], kChunkBytes));
    if (!done_[k]) GLER_CUDA_CHECK(cudaEventCreateWithFlags(&done_[k], cudaEventDisableTiming));
  }
}

void PinnedStaging::to_device(void* dst, const void* host_src, std::size_t bytes, cudaStream_t stream) {
  std::lock_guard lock(mu_);
  ensure_buffers();
  const char* src = static_cast<const char*>(host_src);
  char* d = static_cast<char*>(dst);
  int k = 0;
  for (std::size_t off = 0; off < bytes; off += kChunkBytes, k ^= 1) {
    const std::size_t n = std::min(kChunkBytes, bytes - off);
    // The previous DMA out of this half (this call's or an earlier one's) must have finished.
    GLER_CUDA_CHECK(cudaEventSynchronize(done_[k]));
    std::memcpy(buf_[k], src + off, n);
    GLER_CUDA_CHECK(cudaMemcpyAsync(d + off, buf_[k], n, cudaMemcpyHostToDevice, stream));
    GLER_CUDA_CHECK(cudaEventRecord(done_[k], stream));
  }
}

void PinnedStaging::to_host(void* host_dst, const void* src, std::size_t bytes, cudaStream_t stream) {
  std::lock_guard lock(mu_);
  ensure_buffers();
  const char* s = static_cast<const char*>(src);
  char* dst = static_cast<char*>(host_dst);
  const std::size_t chunks = (bytes + kChunkBytes - 1) / kChunkBytes;
  auto enqueue = [&](std::size_t c) {
    const std::size_t off = c * kChunkBytes, n = std::min(kChunkBytes, bytes - off);
    const int k = static_cast<int>(c % 2);
    GLER_CUDA_CHECK(cudaMemcpyAsync(buf_[k], s + off, n, cudaMemcpyDeviceToHost, stream));
    GLER_CUDA_CHECK(cudaEventRecord(done_[k], stream));
  };
  if (chunks > 0) enqueue(0);
  for (std::size_t c = 0; c < chunks; ++c) {
    // Queue the next chunk into the other half before draining this one, so DMA and memcpy overlap.
    if (c + 1 < chunks) enqueue(c + 1);
    const int k = static_cast<int>(c % 2);
    const std::size_t off = c * kChunkBytes, n = std::min(kChunkBytes, bytes - off);
    GLER_CUDA_CHECK(cudaEventSynchronize(done_[k]));
    std::memcpy(dst + off, buf_[k], n);
  }
}

}  // namespace gler::cuda
