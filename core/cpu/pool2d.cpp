// Pending (issue 3): replaced by the real CPU kernels.
#include "core/cpu/cpu_backend.h"
#include "core/tensor.h"

namespace gler {
void CpuBackend::max_pool2d_forward(const Pool2dArgs&, const Tensor&, Tensor&, Tensor&) { GLER_FAIL("max_pool2d: not implemented"); }
void CpuBackend::max_pool2d_backward(const Pool2dArgs&, const Tensor&, const Tensor&, Tensor&) { GLER_FAIL("max_pool2d: not implemented"); }
void CpuBackend::avg_pool2d_forward(const Pool2dArgs&, const Tensor&, Tensor&) { GLER_FAIL("avg_pool2d: not implemented"); }
void CpuBackend::avg_pool2d_backward(const Pool2dArgs&, const Tensor&, Tensor&) { GLER_FAIL("avg_pool2d: not implemented"); }
}  // namespace gler
