// Pending (issue 3): replaced by the real CPU kernels.
#include "core/cpu/cpu_backend.h"
#include "core/tensor.h"

namespace gler {
void CpuBackend::batch_norm_train(const Tensor&, const Tensor*, const Tensor*, double, double, Tensor*, Tensor*, Tensor&, Tensor&, Tensor&) { GLER_FAIL("batch_norm: not implemented"); }
void CpuBackend::batch_norm_eval(const Tensor&, const Tensor*, const Tensor*, double, const Tensor&, const Tensor&, Tensor&) { GLER_FAIL("batch_norm: not implemented"); }
void CpuBackend::batch_norm_backward(const Tensor&, const Tensor&, const Tensor*, const Tensor&, const Tensor&, Tensor&, Tensor*, Tensor*) { GLER_FAIL("batch_norm: not implemented"); }
void CpuBackend::batch_norm_eval_backward(const Tensor&, const Tensor*, double, const Tensor&, Tensor&) { GLER_FAIL("batch_norm: not implemented"); }
}  // namespace gler
