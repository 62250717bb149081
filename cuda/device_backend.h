// The CUDA implementation of the kernel contract (core/backend.h). One instance per device owns
// the stream, the cuBLAS/cuDNN handles, the caching allocator and the pinned staging buffers.
// Member functions are defined by concern: device_backend.cpp (memory, transfers), elementwise.cu,
// axis.cu, cublas_gemm.cpp, cudnn_conv.cpp, batch_norm.cu, pool2d.cu, prelu.cu, masked_softmax.cu.
#pragma once
#include <memory>

#include <cuda_runtime.h>

#include "core/backend.h"
#include "core/error.h"
#include "cuda/allocator.h"
#include "cuda/handles.h"
#include "cuda/pinned_staging.h"

namespace gler::cuda {

// cuDNN handle, descriptors and chosen algorithms per convolution shape; created on the first
// convolution (cuDNN loads its sub-libraries then) and only touched by cudnn_conv.cpp.
class ConvPlanCache;
struct ConvPlanCacheDeleter {
  void operator()(ConvPlanCache* cache) const;
};

// Makes one device current for a scope and restores the previous one (no CUDA call when it
// already is current): every member of CudaBackend that touches the GPU opens one, so work for
// cuda:1 never lands in cuda:0's context, whatever device the calling thread had selected.
class DeviceScope {
 public:
  explicit DeviceScope(int ordinal);
  ~DeviceScope();
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int previous_;
  int ordinal_;
};

class CudaBackend final : public Backend {
 public:
  // Construct with `ordinal` current (inside a DeviceScope): the stream, the allocator's blocks,
  // the staging buffers and the cuBLAS handle all belong to the device current at construction.
  explicit CudaBackend(int ordinal);
  ~CudaBackend() override = default;

  Device device() const override { return Device::cuda(ordinal_); }
  DeviceScope on_device() const { return DeviceScope(ordinal_); }
  int ordinal() const { return ordinal_; }
  cudaStream_t stream() const { return stream_.get(); }
  // GLER_TF32=1 in the environment when the backend was created.
  bool tf32() const { return tf32_; }

  void* allocate(std::size_t bytes) override;
  void deallocate(void* ptr, std::size_t bytes) override;
  void copy_to_host(void* host_dst, const void* src, std::size_t bytes) override;
  void copy_from_host(void* dst, const void* host_src, std::size_t bytes) override;
  void copy_device(void* dst, const void* src, std::size_t bytes) override;
  void synchronize() override;
  std::size_t peak_bytes() const override { return alloc_.peak_bytes(); }
  void reset_peak_bytes() override { alloc_.reset_peak_bytes(); }

  void fill(Tensor& out, double value) override;
  void cast(const Tensor& src, Tensor& dst) override;
  void random_uniform(Tensor& out, std::uint64_t seed, std::uint64_t offset, double lo, double hi) override;
  void random_normal(Tensor& out, std::uint64_t seed, std::uint64_t offset, double mean, double std) override;

  void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) override;
  void unary(UnaryOp op, const Tensor& x, double alpha, Tensor& y) override;
  void unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& gy, double alpha,
                      Tensor& gx) override;
  void sum_to_suffix(const Tensor& g, Tensor& out) override;

  void reduce(ReduceOp op, const Tensor& x, AxisView v, Tensor& out, Tensor* indices) override;
  void broadcast_axis(const Tensor& g, AxisView v, double scale, Tensor& out) override;
  void gather_axis(const Tensor& x, const Tensor& idx, AxisView v, Tensor& out) override;
  void scatter_add_axis(const Tensor& g, const Tensor& idx, AxisView v, Tensor& out) override;
  void softmax(const Tensor& x, AxisView v, bool log, Tensor& y) override;
  void softmax_backward(const Tensor& y, const Tensor& gy, AxisView v, bool log, Tensor& gx) override;
  void copy_rows(const Tensor& src, std::int64_t src_stride, std::int64_t src_offset, Tensor& dst,
                 std::int64_t dst_stride, std::int64_t dst_offset, std::int64_t rows, std::int64_t len,
                 bool accumulate) override;
  void permute(const Tensor& x, const int* perm, Tensor& y) override;

  void gemm(const GemmArgs& args, const Tensor& a, const Tensor& b, Tensor& c) override;

  void conv2d_forward(const Conv2dArgs& a, const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y) override;
  void conv2d_prelu_forward(const Conv2dArgs& a, const Tensor& x, const Tensor& w, const Tensor* bias,
                            const Tensor& slope, const Pool2dArgs* pool, Tensor& y) override;
  void conv2d_backward_data(const Conv2dArgs& a, const Tensor& gy, const Tensor& w, Tensor& gx) override;
  void conv2d_backward_filter(const Conv2dArgs& a, const Tensor& x, const Tensor& gy, Tensor& gw, Tensor* gb) override;

  void batch_norm_train(const Tensor& x, const Tensor* gamma, const Tensor* beta, double eps, double momentum,
                        Tensor* running_mean, Tensor* running_var, bool relu, Tensor& y, Tensor& save_mean,
                        Tensor& save_invstd) override;
  void batch_norm_eval(const Tensor& x, const Tensor* gamma, const Tensor* beta, double eps,
                       const Tensor& running_mean, const Tensor& running_var, bool relu, Tensor& y) override;
  void batch_norm_backward(const Tensor& x, const Tensor& gy, const Tensor* gamma, const Tensor& save_mean,
                           const Tensor& save_invstd, Tensor& gx, Tensor* ggamma, Tensor* gbeta) override;
  void batch_norm_eval_backward(const Tensor& gy, const Tensor* gamma, double eps, const Tensor& running_var,
                                Tensor& gx) override;

  void max_pool2d_forward(const Pool2dArgs& a, const Tensor& x, Tensor& y, Tensor& indices) override;
  void max_pool2d_backward(const Pool2dArgs& a, const Tensor& gy, const Tensor& indices, Tensor& gx) override;
  void avg_pool2d_forward(const Pool2dArgs& a, const Tensor& x, Tensor& y) override;
  void avg_pool2d_backward(const Pool2dArgs& a, const Tensor& gy, Tensor& gx) override;

  void prelu_forward(const Tensor& x, const Tensor& slope, Tensor& y) override;
  void prelu_backward(const Tensor& x, const Tensor& slope, const Tensor& gy, Tensor& gx, Tensor* gslope) override;

  void masked_softmax(const Tensor& scores, const Tensor& counts, Tensor& weights) override;
  void masked_softmax_backward(const Tensor& weights, const Tensor& gw, Tensor& gscores) override;

  // optim_update.cu
  void fused_multiply_add(const Tensor& a, const Tensor* b, double alpha, const Tensor& c, Tensor& out) override;

 private:
  ConvPlanCache& conv_plans();

  int ordinal_;
  bool tf32_;
  // Members are destroyed in reverse order: handles and buffers go before the stream they use.
  Stream stream_;
  CachingAllocator alloc_;
  PinnedStaging staging_;
  CublasHandle cublas_;
  std::unique_ptr<ConvPlanCache, ConvPlanCacheDeleter> conv_plans_;
};

// Calls f.template operator()<T>() with T = float or double according to dtype; throws otherwise.
// (The kernels live in named function templates: nvcc allows no device lambda inside a generic lambda.)
template <class F>
decltype(auto) dispatch_float(DType dtype, const char* op, F&& f) {
  if (dtype == DType::f32) return f.template operator()<float>();
  if (dtype == DType::f64) return f.template operator()<double>();
  GLER_FAIL(op << " needs f32 or f64, got " << dtype_name(dtype));
}

}  // namespace gler::cuda
