#include <cblas.h>

#include "core/cpu/cpu_backend.h"
#include "core/tensor.h"

namespace gler {

void CpuBackend::gemm(const GemmArgs& g, const Tensor& a, const Tensor& b, Tensor& c) {
  const auto ta = g.trans_a ? CblasTrans : CblasNoTrans;
  const auto tb = g.trans_b ? CblasTrans : CblasNoTrans;
  const blasint m = static_cast<blasint>(g.m), n = static_cast<blasint>(g.n), k = static_cast<blasint>(g.k);
  const blasint lda = g.trans_a ? m : k, ldb = g.trans_b ? k : n, ldc = n;
  if (g.m == 0 || g.n == 0) return;
  dispatch_float(c.dtype(), "gemm", [&]<class T>() {
    const T* pa = a.host_data<T>();
    const T* pb = b.host_data<T>();
    T* pc = c.host_data<T>();
    for (std::int64_t i = 0; i < g.batch; ++i) {
      if constexpr (std::is_same_v<T, float>)
        cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, static_cast<float>(g.alpha), pa + i * g.stride_a, lda,
                    pb + i * g.stride_b, ldb, static_cast<float>(g.beta), pc + i * g.stride_c, ldc);
      else
        cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, g.alpha, pa + i * g.stride_a, lda, pb + i * g.stride_b, ldb,
                    g.beta, pc + i * g.stride_c, ldc);
    }
  });
}

}  // namespace gler
