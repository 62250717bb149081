#include "core/backend.h"

#include <array>
#include <new>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/error.h"
#include "core/tensor.h"

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

std::int64_t conv2d_output_extent(std::int64_t in, std::int64_t kernel, int stride, int pad, int dilation) {
  return (in + 2 * pad - static_cast<std::int64_t>(dilation) * (kernel - 1) - 1) / stride + 1;
}

std::int64_t pool2d_output_extent(std::int64_t in, int kernel, int stride, int pad, bool ceil_mode) {
  const std::int64_t span = in + 2 * pad - kernel;
  std::int64_t out = (ceil_mode ? span + stride - 1 : span) / stride + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

Shape check_conv2d_prelu(const Conv2dArgs& a, const Tensor& x, const Tensor& w, const Tensor* bias,
                         const Tensor& slope, const Pool2dArgs* pool, const Tensor& y) {
  GLER_CHECK(is_floating(x.dtype()), "conv2d_prelu needs a floating input, got " << describe(x));
  std::vector<const Tensor*> operands{&w, &slope, &y};
  if (bias) operands.push_back(bias);
  for (const Tensor* t : operands) {
    check_same_dtype(x, *t, "conv2d_prelu");
    check_same_device(x, *t, "conv2d_prelu");
  }
  GLER_CHECK(x.ndim() == 4 && w.ndim() == 4 && a.groups > 0 && x.size(1) == w.size(1) * a.groups &&
                 w.size(0) % a.groups == 0,
             "conv2d_prelu: input " << x.shape().str() << " does not match weight " << w.shape().str() << " with "
                                    << a.groups << " groups");
  GLER_CHECK(a.stride_h > 0 && a.stride_w > 0 && a.dilation_h > 0 && a.dilation_w > 0 && a.pad_h >= 0 && a.pad_w >= 0 &&
                 x.size(2) + 2 * a.pad_h >= a.dilation_h * (w.size(2) - 1) + 1 &&
                 x.size(3) + 2 * a.pad_w >= a.dilation_w * (w.size(3) - 1) + 1,
             "conv2d_prelu: bad convolution arguments or an input " << x.shape().str()
                                                                    << " smaller than the kernel of " << w.shape().str());
  GLER_CHECK(!pool || (pool->kernel_h > 0 && pool->kernel_w > 0 && pool->stride_h > 0 && pool->stride_w > 0 &&
                       pool->pad_h >= 0 && pool->pad_w >= 0 && pool->pad_h <= pool->kernel_h / 2 &&
                       pool->pad_w <= pool->kernel_w / 2),
             "conv2d_prelu: bad pooling arguments");
  const std::int64_t K = w.size(0);
  GLER_CHECK(!bias || (bias->ndim() == 1 && bias->size(0) == K),
             "conv2d_prelu: bias " << bias->shape().str() << " does not match weight " << w.shape().str());
  GLER_CHECK(slope.ndim() == 1 && (slope.numel() == 1 || slope.numel() == K),
             "conv2d_prelu: slope " << slope.shape().str() << " needs 1 or " << K << " entries");
  const Shape conv{x.size(0), K, conv2d_output_extent(x.size(2), w.size(2), a.stride_h, a.pad_h, a.dilation_h),
                   conv2d_output_extent(x.size(3), w.size(3), a.stride_w, a.pad_w, a.dilation_w)};
  const Shape out = pool ? Shape{conv[0], K, pool2d_output_extent(conv[2], pool->kernel_h, pool->stride_h, pool->pad_h,
                                                                   pool->ceil_mode),
                                 pool2d_output_extent(conv[3], pool->kernel_w, pool->stride_w, pool->pad_w,
                                                      pool->ceil_mode)}
                         : conv;
  const bool window_fits =
      !pool || (conv[2] + 2 * pool->pad_h >= pool->kernel_h && conv[3] + 2 * pool->pad_w >= pool->kernel_w);
  GLER_CHECK(window_fits && out[2] > 0 && out[3] > 0 && y.shape() == out,
             "conv2d_prelu: output " << y.shape().str() << " should be " << out.str() << " (convolution output "
                                     << conv.str() << ")");
  return conv;
}

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
