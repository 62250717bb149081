// The flags of errors found by kernels (cuda/deferred_errors.h): one block of pinned, mapped host
// memory per device.
#include "cuda/deferred_errors.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>
#include <string>

#include "core/error.h"
#include "cuda/check.h"
#include "cuda/cuda_backend.h"

namespace gler::cuda {

namespace {

constexpr int kDeferredChecks = 3;

// One device's flags: pinned host memory, seen by kernels at `device`.
struct DeferredFlags {
  int* host;
  int* device;
};

bool eager_checks() {
#ifdef NDEBUG
  static const bool on = [] {
    const char* v = std::getenv("GLER_CHECK_INDICES");
    return v != nullptr && std::strcmp(v, "1") == 0;
  }();
  return on;
#else
  return true;
#endif
}

// Made on first use and never freed, like the backends (device_backend.cpp): kernels queued at
// exit may still write to them.
std::atomic<DeferredFlags*>& flags_slot(int ordinal) {
  const int count = device_count();
  GLER_CHECK(ordinal >= 0 && ordinal < count, "cuda:" << ordinal << " does not exist (" << count << " CUDA devices)");
  static auto* slots = new std::atomic<DeferredFlags*>[static_cast<std::size_t>(count)]();
  return slots[ordinal];
}

const DeferredFlags& make_flags(std::atomic<DeferredFlags*>& slot) {
  static std::mutex mu;
  std::lock_guard lock(mu);
  if (const DeferredFlags* f = slot.load(std::memory_order_relaxed)) return *f;
  constexpr std::size_t bytes = kDeferredChecks * sizeof(int);
  void* host = nullptr;
  GLER_CUDA_CHECK(cudaHostAlloc(&host, bytes, cudaHostAllocMapped));
  std::memset(host, 0, bytes);
  void* device = nullptr;
  const cudaError_t mapped = cudaHostGetDevicePointer(&device, host, 0);
  if (mapped != cudaSuccess) {
    cudaFreeHost(host);
    GLER_FAIL("cudaHostGetDevicePointer failed for the kernel error flags: " << cudaGetErrorName(mapped) << " ("
                                                                            << cudaGetErrorString(mapped) << ")");
  }
  auto* f = new DeferredFlags{static_cast<int*>(host), static_cast<int*>(device)};
  slot.store(f, std::memory_order_release);
  return *f;
}

// Reads and clears a flag in one step: a kernel of another thread setting it meanwhile is
// reported now or at the next check, never lost.
bool take(const DeferredFlags& f, DeferredCheck check) {
  return std::atomic_ref<int>(f.host[static_cast<int>(check)]).exchange(0) != 0;
}

// "gather: an index is out of range [0, 5)"; for a deferred check (bound < 0) the range is named.
std::string message(DeferredCheck check, std::int64_t bound) {
  const bool count = check == DeferredCheck::masked_softmax_count;
  std::ostringstream os;
  os << (check == DeferredCheck::gather_index        ? "gather: an index"
         : check == DeferredCheck::scatter_add_index ? "scatter_add: an index"
                                                     : "masked_softmax: a face count")
     << (bound >= 0 ? " is" : " was") << (count ? " outside [0, " : " out of range [0, ");
  if (bound >= 0)
    os << bound;
  else
    os << (count ? "F" : "n");
  os << (count ? "]" : ")");
  return os.str();
}

}  // namespace

int* deferred_flag(int ordinal, DeferredCheck check) {
  std::atomic<DeferredFlags*>& slot = flags_slot(ordinal);
  const DeferredFlags* f = slot.load(std::memory_order_acquire);
  return (f ? *f : make_flags(slot)).device + static_cast<int>(check);
}

void check_deferred_errors(int ordinal) {
  const DeferredFlags* f = flags_slot(ordinal).load(std::memory_order_acquire);
  if (f == nullptr) return;  // no kernel of this device was given a flag yet
  std::ostringstream errors;
  int found = 0;
  for (int c = 0; c < kDeferredChecks; ++c)
    if (take(*f, static_cast<DeferredCheck>(c)))
      errors << (found++ ? "; " : "") << message(static_cast<DeferredCheck>(c), -1);
  GLER_CHECK(found == 0, errors.str() << " (found when cuda:" << ordinal
                                      << " synchronised, after the op had returned; GLER_CHECK_INDICES=1 raises it "
                                         "at the op)");
}

void check_eagerly(int ordinal, cudaStream_t stream, DeferredCheck check, std::int64_t bound) {
  if (!eager_checks()) return;
  GLER_CUDA_CHECK(cudaStreamSynchronize(stream));
  const DeferredFlags* f = flags_slot(ordinal).load(std::memory_order_acquire);
  GLER_CHECK(f == nullptr || !take(*f, check), message(check, bound));
}

}  // namespace gler::cuda
