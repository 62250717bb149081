// Backend creation, device discovery, memory and host<->device transfers.
#include "cuda/device_backend.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "cuda/check.h"
#include "cuda/cuda_backend.h"
#include "cuda/deferred_errors.h"

namespace gler::cuda {

namespace {
bool tf32_requested() {
  const char* v = std::getenv("GLER_TF32");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

int current_device() {
  int dev = 0;
  GLER_CUDA_CHECK(cudaGetDevice(&dev));
  return dev;
}
}  // namespace

DeviceScope::DeviceScope(int ordinal) : previous_(current_device()), ordinal_(ordinal) {
  if (previous_ != ordinal_) GLER_CUDA_CHECK(cudaSetDevice(ordinal_));
}

DeviceScope::~DeviceScope() {
  if (previous_ != ordinal_) cudaSetDevice(previous_);  // no throw from a destructor; nothing to undo on failure
}

CudaBackend::CudaBackend(int ordinal) : ordinal_(ordinal), tf32_(tf32_requested()), cublas_(stream_.get(), tf32_) {}

void* CudaBackend::allocate(std::size_t bytes) {
  const DeviceScope scope = on_device();
  return alloc_.allocate(bytes);
}

void CudaBackend::deallocate(void* ptr, std::size_t bytes) {
  const DeviceScope scope = on_device();
  alloc_.deallocate(ptr, bytes);
}

void CudaBackend::copy_to_host(void* host_dst, const void* src, std::size_t bytes) {
  const DeviceScope scope = on_device();
  staging_.to_host(host_dst, src, bytes, stream());
  check_deferred_errors(ordinal_);  // the stream has been waited for: report what its kernels flagged
}

void CudaBackend::copy_from_host(void* dst, const void* host_src, std::size_t bytes) {
  const DeviceScope scope = on_device();
  staging_.to_device(dst, host_src, bytes, stream());
}

void CudaBackend::copy_device(void* dst, const void* src, std::size_t bytes) {
  if (bytes == 0) return;
  const DeviceScope scope = on_device();
  GLER_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream()));
}

void CudaBackend::synchronize() {
  const DeviceScope scope = on_device();
  GLER_CUDA_CHECK(cudaStreamSynchronize(stream()));
  check_deferred_errors(ordinal_);
}

int device_count() {
  // Counted once: the number of visible devices does not change while a process runs.
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();  // no driver or no device: not an error for the caller, just none
      return 0;
    }
    return n;
  }();
  return count;
}

Backend& backend(int ordinal) {
  // One backend per device, created on first use; they live as long as the process: tensors in
  // static storage may be destroyed after any function-local static and must still find their
  // backend to return memory to, and the driver reclaims everything at exit.
  const int count = device_count();
  GLER_CHECK(ordinal >= 0 && ordinal < count, "cuda:" << ordinal << " does not exist (" << count << " CUDA devices)");
  static auto* slots = new std::atomic<CudaBackend*>[static_cast<std::size_t>(count)]();
  static std::mutex mu;
  std::atomic<CudaBackend*>& slot = slots[ordinal];
  if (CudaBackend* b = slot.load(std::memory_order_acquire)) return *b;
  std::lock_guard lock(mu);
  if (slot.load(std::memory_order_relaxed) == nullptr) {
    const DeviceScope scope(ordinal);
    slot.store(new CudaBackend(ordinal), std::memory_order_release);
  }
  return *slot.load(std::memory_order_acquire);
}

}  // namespace gler::cuda
