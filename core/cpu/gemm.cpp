#include <cblas.h>

#include <algorithm>
#include <vector>
#ifdef GLER_WITH_DNNL
#include <dnnl.h>
#endif

#include "core/cpu/cpu_backend.h"
#include "core/cpu/sgemm.h"
#include "core/error.h"
#include "core/tensor.h"

namespace gler {

namespace cpu {

void sgemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* a,
           std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c, std::int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // oneDNN leaves C untouched here, and BLAS wants lda >= 1
    for (std::int64_t i = 0; i < m; ++i) {
      float* row = c + i * ldc;
      if (beta == 0.0f)
        std::fill(row, row + n, 0.0f);
      else
        std::transform(row, row + n, row, [beta](float v) { return beta * v; });
    }
    return;
  }
#ifdef GLER_WITH_DNNL
  // Products below ~4M multiply-adds stay on OpenBLAS: they take well under a millisecond either
  // way, and PyTorch runs its Linear / matmul on the same OpenBLAS, so they keep agreeing with it
  // to the last bits (oneDNN sums in another order: Linear's 1e-5 parity test failed on it).
  constexpr double kDnnlMinMacs = 4.0 * (1 << 20);
  if (static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) >= kDnnlMinMacs) {
    if (!trans_a && trans_b && m < 32 && n >= 4 * m && beta == 0.0f) {
      // A Linear layer on a few rows (sphere20a's fc5: 15 x 21504 by 512 x 21504): oneDNN's kernel
      // for few rows took 10.7 ms where the transposed product, Cᵀ = B·Aᵀ, took 5.7 (one read
      // of B either way; it bounds the time). Cᵀ is small and goes back to C transposed.
      thread_local std::vector<float> transposed;
      transposed.resize(static_cast<std::size_t>(m * n));
      const dnnl_status_t status = dnnl_sgemm('N', 'T', n, m, k, alpha, b, ldb, a, lda, 0.0f, transposed.data(), m);
      GLER_CHECK(status == dnnl_success, "oneDNN sgemm failed (status " << static_cast<int>(status) << ") for m "
                                                                        << n << ", n " << m << ", k " << k);
      for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t j = 0; j < n; ++j) c[i * ldc + j] = transposed[static_cast<std::size_t>(j * m + i)];
      return;
    }
    const dnnl_status_t status =
        dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    GLER_CHECK(status == dnnl_success, "oneDNN sgemm failed (status " << static_cast<int>(status) << ") for m "
                                                                      << m << ", n " << n << ", k " << k);
    return;
  }
#endif
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), alpha, a,
              static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, c, static_cast<blasint>(ldc));
}

}  // namespace cpu

void CpuBackend::gemm(const GemmArgs& g, const Tensor& a, const Tensor& b, Tensor& c) {
  const std::int64_t lda = g.trans_a ? g.m : g.k, ldb = g.trans_b ? g.k : g.n, ldc = g.n;
  if (g.m == 0 || g.n == 0) return;
  dispatch_float(c.dtype(), "gemm", [&]<class T>() {
    const T* pa = a.host_data<T>();
    const T* pb = b.host_data<T>();
    T* pc = c.host_data<T>();
    for (std::int64_t i = 0; i < g.batch; ++i) {
      if constexpr (std::is_same_v<T, float>)
        cpu::sgemm(g.trans_a, g.trans_b, g.m, g.n, g.k, static_cast<float>(g.alpha), pa + i * g.stride_a, lda,
                   pb + i * g.stride_b, ldb, static_cast<float>(g.beta), pc + i * g.stride_c, ldc);
      else
        cblas_dgemm(CblasRowMajor, g.trans_a ? CblasTrans : CblasNoTrans, g.trans_b ? CblasTrans : CblasNoTrans,
                    static_cast<blasint>(g.m), static_cast<blasint>(g.n), static_cast<blasint>(g.k), g.alpha,
                    pa + i * g.stride_a, static_cast<blasint>(lda), pb + i * g.stride_b, static_cast<blasint>(ldb),
                    g.beta, pc + i * g.stride_c, static_cast<blasint>(ldc));
    }
  });
}

}  // namespace gler
