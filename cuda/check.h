// Status checks for the CUDA runtime, cuBLAS and cuDNN: every failing call becomes a gler::Error
// naming the call and the library's own description of the failure.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "core/error.h"

#define GLER_CUDA_CHECK(call)                                                              \
  do {                                                                                     \
    const cudaError_t gler_status_ = (call);                                               \
    GLER_CHECK(gler_status_ == cudaSuccess, #call << " failed: " << cudaGetErrorName(gler_status_) \
                                                  << " (" << cudaGetErrorString(gler_status_) << ")"); \
  } while (0)

#define GLER_CUBLAS_CHECK(call)                                                                    \
  do {                                                                                             \
    const cublasStatus_t gler_status_ = (call);                                                    \
    GLER_CHECK(gler_status_ == CUBLAS_STATUS_SUCCESS, #call << " failed: " << cublasGetStatusName(gler_status_) \
                                                            << " (" << cublasGetStatusString(gler_status_) << ")"); \
  } while (0)

#define GLER_CUDNN_CHECK(call)                                                                     \
  do {                                                                                             \
    const cudnnStatus_t gler_status_ = (call);                                                     \
    GLER_CHECK(gler_status_ == CUDNN_STATUS_SUCCESS, #call << " failed: " << cudnnGetErrorString(gler_status_)); \
  } while (0)

namespace gler::cuda {

// After every kernel launch: a bad launch configuration is reported by cudaGetLastError at once
// (cheap, so always on). Debug builds also wait for the kernel so that a fault inside it is
// reported at the launch that caused it rather than at some later, unrelated call.
inline void check_launch(const char* kernel, cudaStream_t stream) {
  const cudaError_t launch = cudaGetLastError();
  GLER_CHECK(launch == cudaSuccess, "launch of " << kernel << " failed: " << cudaGetErrorString(launch));
#ifndef NDEBUG
  const cudaError_t run = cudaStreamSynchronize(stream);
  GLER_CHECK(run == cudaSuccess, "kernel " << kernel << " failed: " << cudaGetErrorString(run));
#else
  (void)stream;
#endif
}

}  // namespace gler::cuda
