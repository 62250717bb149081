// Pending (issue 3): replaced by the real CPU kernels.
#include "core/cpu/cpu_backend.h"
#include "core/tensor.h"

namespace gler {
void CpuBackend::conv2d_forward(const Conv2dArgs&, const Tensor&, const Tensor&, const Tensor*, Tensor&) { GLER_FAIL("conv2d: not implemented"); }
void CpuBackend::conv2d_backward_data(const Conv2dArgs&, const Tensor&, const Tensor&, Tensor&) { GLER_FAIL("conv2d: not implemented"); }
void CpuBackend::conv2d_backward_filter(const Conv2dArgs&, const Tensor&, const Tensor&, Tensor&, Tensor*) { GLER_FAIL("conv2d: not implemented"); }
}  // namespace gler
