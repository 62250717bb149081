// Layer kernels not yet implemented on the CPU (issue 3 replaces each with its own file).
#include "core/cpu/cpu_backend.h"
#include "core/tensor.h"

namespace gler {
void CpuBackend::conv2d_forward(const Conv2dArgs&, const Tensor&, const Tensor&, const Tensor*, Tensor&) { GLER_FAIL("conv2d: not implemented"); }
void CpuBackend::conv2d_backward_data(const Conv2dArgs&, const Tensor&, const Tensor&, Tensor&) { GLER_FAIL("conv2d: not implemented"); }
void CpuBackend::conv2d_backward_filter(const Conv2dArgs&, const Tensor&, const Tensor&, Tensor&, Tensor*) { GLER_FAIL("conv2d: not implemented"); }
void CpuBackend::batch_norm_train(const Tensor&, const Tensor*, const Tensor*, double, double, Tensor*, Tensor*, Tensor&, Tensor&, Tensor&) { GLER_FAIL("batch_norm: not implemented"); }
void CpuBackend::batch_norm_eval(const Tensor&, const Tensor*, const Tensor*, double, const Tensor&, const Tensor&, Tensor&) { GLER_FAIL("batch_norm: not implemented"); }
void CpuBackend::batch_norm_backward(const Tensor&, const Tensor&, const Tensor*, const Tensor&, const Tensor&, Tensor&, Tensor*, Tensor*) { GLER_FAIL("batch_norm: not implemented"); }
void CpuBackend::batch_norm_eval_backward(const Tensor&, const Tensor*, double, const Tensor&, Tensor&) { GLER_FAIL("batch_norm: not implemented"); }
void CpuBackend::max_pool2d_forward(const Pool2dArgs&, const Tensor&, Tensor&, Tensor&) { GLER_FAIL("max_pool2d: not implemented"); }
void CpuBackend::max_pool2d_backward(const Pool2dArgs&, const Tensor&, const Tensor&, Tensor&) { GLER_FAIL("max_pool2d: not implemented"); }
void CpuBackend::avg_pool2d_forward(const Pool2dArgs&, const Tensor&, Tensor&) { GLER_FAIL("avg_pool2d: not implemented"); }
void CpuBackend::avg_pool2d_backward(const Pool2dArgs&, const Tensor&, Tensor&) { GLER_FAIL("avg_pool2d: not implemented"); }
void CpuBackend::prelu_forward(const Tensor&, const Tensor&, Tensor&) { GLER_FAIL("prelu: not implemented"); }
void CpuBackend::prelu_backward(const Tensor&, const Tensor&, const Tensor&, Tensor&, Tensor*) { GLER_FAIL("prelu: not implemented"); }
void CpuBackend::masked_softmax(const Tensor&, const Tensor&, Tensor&) { GLER_FAIL("masked_softmax: not implemented"); }
void CpuBackend::masked_softmax_backward(const Tensor&, const Tensor&, Tensor&) { GLER_FAIL("masked_softmax: not implemented"); }
}  // namespace gler
