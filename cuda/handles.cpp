#include "cuda/handles.h"

#include "cuda/check.h"

namespace gler::cuda {

// Non-blocking: the legacy default stream would serialise against every other stream in the
// process (a PyTorch in the same process, cuDNN's internal streams).
Stream::Stream() { GLER_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }
// Destructors ignore errors: they may run while the driver shuts down at exit.
Stream::~Stream() { cudaStreamDestroy(stream_); }

CublasHandle::CublasHandle(cudaStream_t stream, bool tf32) {
  GLER_CUBLAS_CHECK(cublasCreate(&handle_));
  try {
    GLER_CUBLAS_CHECK(cublasSetStream(handle_, stream));
    GLER_CUBLAS_CHECK(cublasSetPointerMode(handle_, CUBLAS_POINTER_MODE_HOST));
    GLER_CUBLAS_CHECK(cublasSetMathMode(handle_, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
  } catch (...) {
    cublasDestroy(handle_);
    throw;
  }
}
CublasHandle::~CublasHandle() { cublasDestroy(handle_); }

CudnnHandle::CudnnHandle(cudaStream_t stream) {
  GLER_CUDNN_CHECK(cudnnCreate(&handle_));
  const cudnnStatus_t st = cudnnSetStream(handle_, stream);
  if (st != CUDNN_STATUS_SUCCESS) {
    cudnnDestroy(handle_);
    GLER_CUDNN_CHECK(st);
  }
}
CudnnHandle::~CudnnHandle() { cudnnDestroy(handle_); }

}  // namespace gler::cuda
