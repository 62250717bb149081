// Pending (issue 3): replaced by the real CPU kernels.
#include "core/cpu/cpu_backend.h"
#include "core/tensor.h"

namespace gler {
void CpuBackend::masked_softmax(const Tensor&, const Tensor&, Tensor&) { GLER_FAIL("masked_softmax: not implemented"); }
void CpuBackend::masked_softmax_backward(const Tensor&, const Tensor&, Tensor&) { GLER_FAIL("masked_softmax: not implemented"); }
}  // namespace gler
