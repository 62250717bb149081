// The single-precision GEMM behind every f32 matrix product of the CPU backend (Backend::gemm and
// the im2col convolutions). With oneDNN (GLER_WITH_DNNL), products of 4M multiply-adds and more
// (the dense blocks' 1x1 convolutions, large Linear layers) run on oneDNN's sgemm: its JIT kernels
// use the machine's widest vectors, while Debian's OpenBLAS 0.3.21 falls back to its Prescott
// (SSE3) kernels on CPUs it does not know (20-30 GFLOP/s on one core of this VM, oneDNN 100-140),
// and oneDNN's threads are OpenMP's, the pool every other CPU kernel uses, not a second pool
// spinning beside it. Smaller products, and all of them without oneDNN, take OpenBLAS's
// cblas_sgemm; f64 stays on OpenBLAS (oneDNN has no dgemm).
#pragma once
#include <cstdint>

namespace gler::cpu {

// Row-major C = alpha·op(A)·op(B) + beta·C with leading dimensions lda, ldb, ldc; op(A) is m×k.
// A k of 0 gives beta·C; beta 0 overwrites C whatever it held (NaN included).
void sgemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* a,
           std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c, std::int64_t ldc);

}  // namespace gler::cpu
