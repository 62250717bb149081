// Backend creation, device discovery, memory and host<->device transfers.
#include "cuda/device_backend.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "cuda/check.h"
#include "cuda/cuda_backend.h"

namespace gler::cuda {

namespace {
bool tf32_requested() {
  const char* v = std::getenv("GLER_TF32");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

// Selects the backend's device for the constructor's CUDA calls.
int select_device(int ordinal) {
  GLER_CUDA_CHECK(cudaSetDevice(ordinal));
  return ordinal;
}
}  // namespace

CudaBackend::CudaBackend(int ordinal)
    : ordinal_(select_device(ordinal)), tf32_(tf32_requested()), cublas_(stream_.get(), tf32_) {}

void* CudaBackend::allocate(std::size_t bytes) { return alloc_.allocate(bytes); }
void CudaBackend::deallocate(void* ptr, std::size_t bytes) { alloc_.deallocate(ptr, bytes); }

void CudaBackend::copy_to_host(void* host_dst, const void* src, std::size_t bytes) {
  staging_.to_host(host_dst, src, bytes, stream());
}

void CudaBackend::copy_from_host(void* dst, const void* host_src, std::size_t bytes) {
  staging_.to_device(dst, host_src, bytes, stream());
}

void CudaBackend::copy_device(void* dst, const void* src, std::size_t bytes) {
  if (bytes == 0) return;
  GLER_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream()));
}

void CudaBackend::synchronize() { GLER_CUDA_CHECK(cudaStreamSynchronize(stream())); }

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // no driver or no device: not an error for the caller, just none
    return 0;
  }
  return n;
}

Backend& backend() {
  // Called for every allocation and kernel dispatch, so the common path is one cudaGetDevice
  // and an atomic load. One backend per device, created on first use; they live as long as the
  // process: tensors in static storage may be destroyed after any function-local static and must
  // still find their backend to return memory to, and the driver reclaims everything at exit.
  static const int count = device_count();
  GLER_CHECK(count > 0, "no CUDA device is available (cudaGetDeviceCount found none)");
  static auto* slots = new std::atomic<CudaBackend*>[static_cast<std::size_t>(count)]();
  static std::mutex mu;
  int dev = 0;
  GLER_CUDA_CHECK(cudaGetDevice(&dev));
  std::atomic<CudaBackend*>& slot = slots[dev];
  if (CudaBackend* b = slot.load(std::memory_order_acquire)) return *b;
  std::lock_guard lock(mu);
  if (slot.load(std::memory_order_relaxed) == nullptr) slot.store(new CudaBackend(dev), std::memory_order_release);
  return *slot.load(std::memory_order_acquire);
}

}  // namespace gler::cuda
