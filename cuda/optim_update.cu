// The optimiser-update kernel (core/cpu/optim_update.cpp's, on the device): an explicit fma, the
// rounding PyTorch's CUDA add-with-alpha and addcmul get from nvcc's contraction.
#include <cstdint>

#include "core/tensor.h"
#include "cuda/device_backend.h"
#include "cuda/launch.cuh"

namespace gler::cuda {

namespace {

template <class T>
void fma_typed(cudaStream_t s, const Tensor& a, const Tensor* b, double alpha, const Tensor& c, Tensor& out) {
  const T* pa = a.data<T>();
  const T* pb = b ? b->data<T>() : nullptr;
  const T* pc = c.data<T>();
  T* po = out.data<T>();
  const T al = static_cast<T>(alpha);  // rounded on the host, as the CPU does
  if (pb)
    for_each(s, out.numel(), "fused_multiply_add",
             [=] __device__(std::int64_t i) { po[i] = fma(pa[i], pb[i], pc[i]); });
  else
    for_each(s, out.numel(), "fused_multiply_add", [=] __device__(std::int64_t i) { po[i] = fma(pa[i], al, pc[i]); });
}

}  // namespace

void CudaBackend::fused_multiply_add(const Tensor& a, const Tensor* b, double alpha, const Tensor& c, Tensor& out) {
  const char* op = "fused_multiply_add";
  GLER_CHECK(is_floating(out.dtype()), op << ": out is " << describe(out) << ", expected f32 or f64");
  check_operand(out, op, "out", device(), out.dtype());
  check_operand(a, op, "a", device(), out.dtype());
  check_operand(c, op, "c", device(), out.dtype());
  if (b) check_operand(*b, op, "b", device(), out.dtype());
  const std::int64_t n = out.numel();
  GLER_CHECK(a.numel() == n && c.numel() == n && (!b || b->numel() == n),
             op << ": operands " << describe(a) << ", " << (b ? describe(*b) : std::string("alpha")) << ", "
                << describe(c) << " do not match out " << describe(out));
  const DeviceScope scope = on_device();
  dispatch_float(out.dtype(), op, [&]<class T>() { fma_typed<T>(stream(), a, b, alpha, c, out); });
}

}  // namespace gler::cuda
