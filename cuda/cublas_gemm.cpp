// GEMM through cuBLAS. cuBLAS is column-major; a row-major matrix is the column-major view of its
// transpose, so row-major C = op(A)·op(B) is computed as column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: the
// operands swap places, each keeps its own transpose flag, and m and n swap.
#include <climits>

#include "core/tensor.h"
#include "cuda/check.h"
#include "cuda/device_backend.h"

namespace gler::cuda {

namespace {
int as_int(std::int64_t v, const char* what) {
  GLER_CHECK(v >= 0 && v <= INT_MAX, "gemm: " << what << " = " << v << " exceeds cuBLAS's 32-bit sizes");
  return static_cast<int>(v);
}
}  // namespace

void CudaBackend::gemm(const GemmArgs& g, const Tensor& a, const Tensor& b, Tensor& c) {
  const DeviceScope scope = on_device();
  if (g.m == 0 || g.n == 0 || g.batch == 0) return;
  const int m = as_int(g.m, "m"), n = as_int(g.n, "n"), k = as_int(g.k, "k"), batch = as_int(g.batch, "batch");
  const int lda = g.trans_a ? m : k, ldb = g.trans_b ? k : n, ldc = n;
  const cublasOperation_t op_a = g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  // cuBLAS needs leading dimensions >= 1 even for empty operands (k == 0 scales C by beta).
  const int lda_ok = lda > 0 ? lda : 1, ldb_ok = ldb > 0 ? ldb : 1;
  if (c.dtype() == DType::f32) {
    const float alpha = static_cast<float>(g.alpha), beta = static_cast<float>(g.beta);
    GLER_CUBLAS_CHECK(cublasSgemmStridedBatched(cublas_.get(), op_b, op_a, n, m, k, &alpha, b.data<float>(), ldb_ok,
                                                g.stride_b, a.data<float>(), lda_ok, g.stride_a, &beta,
                                                c.data<float>(), ldc, g.stride_c, batch));
  } else if (c.dtype() == DType::f64) {
    GLER_CUBLAS_CHECK(cublasDgemmStridedBatched(cublas_.get(), op_b, op_a, n, m, k, &g.alpha, b.data<double>(),
                                                ldb_ok, g.stride_b, a.data<double>(), lda_ok, g.stride_a, &g.beta,
                                                c.data<double>(), ldc, g.stride_c, batch));
  } else {
    GLER_FAIL("gemm needs f32 or f64, got " << describe(c));
  }
}

}  // namespace gler::cuda
