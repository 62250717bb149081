// Pending (issue 3): replaced by the real CPU kernels.
#include "core/cpu/cpu_backend.h"
#include "core/tensor.h"

namespace gler {
void CpuBackend::prelu_forward(const Tensor&, const Tensor&, Tensor&) { GLER_FAIL("prelu: not implemented"); }
void CpuBackend::prelu_backward(const Tensor&, const Tensor&, const Tensor&, Tensor&, Tensor*) { GLER_FAIL("prelu: not implemented"); }
}  // namespace gler
