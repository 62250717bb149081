#include "core/backend.h"

#include <array>
#include <new>

#include "core/cpu/cpu_backend.h"
#include "core/error.h"

namespace gler {

namespace {

// One slot per accelerator kind; written at static-initialisation time, read afterwards.
std::array<BackendProvider, 2>& providers() {
  static std::array<BackendProvider, 2> slots{};
  return slots;
}

const BackendProvider* provider_for(DeviceKind kind) {
  const BackendProvider& p = providers()[static_cast<std::size_t>(kind)];
  return p.get != nullptr ? &p : nullptr;
}

}  // namespace

void register_backend(DeviceKind kind, BackendProvider provider) {
  GLER_CHECK(kind != DeviceKind::CPU, "the CPU backend is built in");
  GLER_CHECK(provider.get != nullptr && provider.count != nullptr, "a backend provider needs get and count");
  providers()[static_cast<std::size_t>(kind)] = provider;
}

int device_count(DeviceKind kind) {
  if (kind == DeviceKind::CPU) return 1;
  const BackendProvider* p = provider_for(kind);
  return p != nullptr ? p->count() : 0;
}

void check_device_usable(Device device) {
  GLER_CHECK(device.index >= 0, "device index must be >= 0, got " << device.index);
  if (device.is_cpu()) {
    GLER_CHECK(device.index == 0, "there is one CPU device (cpu), not " << device_name(device));
    return;
  }
  const BackendProvider* p = provider_for(device.kind);
  GLER_CHECK(p != nullptr, "this gler was built without the " << device_kind_name(device.kind)
                               << " backend (configure with -DGLER_CUDA=ON where nvcc and cuDNN are installed)");
  const int n = p->count();
  GLER_CHECK(n > 0, "no " << device_kind_name(device.kind) << " device is available");
  GLER_CHECK(device.index < n, device_name(device) << " does not exist: " << n << " "
                                                  << device_kind_name(device.kind) << " device(s) present");
}

Backend& backend_for(Device device) {
  if (device.is_cpu() && device.index == 0) {
    // Built in place and never destroyed: tensors owned by other statics (a test's cached model)
    // are freed through it during exit, in whatever order the statics go.
    alignas(CpuBackend) static unsigned char storage[sizeof(CpuBackend)];
    static CpuBackend* const cpu = ::new (storage) CpuBackend();
    return *cpu;
  }
  check_device_usable(device);
  return provider_for(device.kind)->get(device.index);
}

}  // namespace gler
