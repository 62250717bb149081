// The kernel contract every backend implements. Ops (core/ops.cpp) and layers (layers/) validate
// shapes, allocate outputs and record autograd; backends only compute. All tensors handed to a
// kernel are contiguous, live on the backend's device and share one floating dtype (f32 or f64)
// unless a parameter says otherwise (indices are i64). Outputs are preallocated by the caller.
//
// Axis-wise kernels see their input as [outer, n, inner] (outer = product of the dims before the
// axis, inner = product after), so one kernel serves every axis of every rank.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/device.h"
#include "core/dtype.h"
#include "core/shape.h"

namespace gler {

class Tensor;

enum class BinaryOp { add, sub, mul, div, maximum, minimum };
// y = f(x; alpha). `scale`: alpha*x, `add_scalar`: x+alpha, `pow`: x^alpha, `clamp_min`: max(x, alpha),
// `leaky_relu`: x>0 ? x : alpha*x. acos/floor/sign have no useful gradient and are not differentiable.
enum class UnaryOp { neg, exp, log, sqrt, abs, relu, sigmoid, tanh, scale, add_scalar, pow, clamp_min, leaky_relu, acos, floor, sign };
enum class ReduceOp { sum, mean, max };

struct AxisView {
  std::int64_t outer = 1, n = 1, inner = 1;
};

// Row-major GEMM on contiguous matrices, C = alpha*op(A)*op(B) + beta*C, repeated `batch` times
// with element strides between the matrices (a stride of 0 reuses the same matrix).
struct GemmArgs {
  bool trans_a = false, trans_b = false;
  std::int64_t m = 0, n = 0, k = 0;
  std::int64_t batch = 1;
  std::int64_t stride_a = 0, stride_b = 0, stride_c = 0;
  double alpha = 1.0, beta = 0.0;
};

struct Conv2dArgs {
  int stride_h = 1, stride_w = 1;
  int pad_h = 0, pad_w = 0;
  int dilation_h = 1, dilation_w = 1;
  int groups = 1;
};

struct Pool2dArgs {
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int pad_h = 0, pad_w = 0;
  bool ceil_mode = false;
  bool count_include_pad = true;  // average pooling only (PyTorch's default)
};

// Output extent of one spatial axis of a convolution, (in + 2·pad − dilation·(kernel − 1) − 1) / stride
// + 1, for an input at least as large as the dilated kernel.
std::int64_t conv2d_output_extent(std::int64_t in, std::int64_t kernel, int stride, int pad, int dilation);
// PyTorch's pooling output extent: floor or ceil of (in + 2·pad − kernel) / stride, plus one; in
// ceil_mode the last window must start inside the input or its left padding.
std::int64_t pool2d_output_extent(std::int64_t in, int kernel, int stride, int pad, bool ceil_mode);

// The checks of Backend::conv2d_prelu_forward, for every backend to run before it computes: one
// floating dtype and one device for all tensors, bias [K], slope [K] or [1], y the (pooled)
// output's shape. Returns the convolution's output shape [N, K, P, Q].
Shape check_conv2d_prelu(const Conv2dArgs& a, const Tensor& x, const Tensor& w, const Tensor* bias,
                         const Tensor& slope, const Pool2dArgs* pool, const Tensor& y);

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Device device() const = 0;

  // ---- memory ---------------------------------------------------------------------------------
  virtual void* allocate(std::size_t bytes) = 0;
  virtual void deallocate(void* ptr, std::size_t bytes) = 0;
  // Copies between this backend's memory and host memory (either direction) or within the device.
  virtual void copy_to_host(void* host_dst, const void* src, std::size_t bytes) = 0;
  virtual void copy_from_host(void* dst, const void* host_src, std::size_t bytes) = 0;
  virtual void copy_device(void* dst, const void* src, std::size_t bytes) = 0;
  virtual void synchronize() = 0;
  virtual std::size_t peak_bytes() const = 0;
  virtual void reset_peak_bytes() = 0;

  // ---- fills, casts, random -------------------------------------------------------------------
  virtual void fill(Tensor& out, double value) = 0;
  virtual void cast(const Tensor& src, Tensor& dst) = 0;  // any dtype to any dtype, same numel
  // Philox-4x32-10 streams (core/rng.h): element i draws from counter (offset + i/4), lane i%4,
  // so CPU and CUDA produce identical values for the same (seed, offset).
  virtual void random_uniform(Tensor& out, std::uint64_t seed, std::uint64_t offset, double lo, double hi) = 0;
  virtual void random_normal(Tensor& out, std::uint64_t seed, std::uint64_t offset, double mean, double std) = 0;

  // ---- elementwise ----------------------------------------------------------------------------
  // out[i] = a[i % a.numel()] op b[i % b.numel()]; out.numel() = max of the two (the smaller
  // operand's shape is a suffix of the larger: broadcasting over leading dims).
  virtual void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) = 0;
  virtual void unary(UnaryOp op, const Tensor& x, double alpha, Tensor& y) = 0;
  // gx = dy/dx * gy, given x and y = f(x).
  virtual void unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& gy, double alpha,
                              Tensor& gx) = 0;
  // out[j] = sum over i with i % out.numel() == j of g[i]: the backward of suffix broadcasting.
  virtual void sum_to_suffix(const Tensor& g, Tensor& out) = 0;

  // ---- reductions and axis ops (x as [outer, n, inner]) --------------------------------------
  // out: [outer, inner]; `indices` (i64 [outer, inner], may be null) receives the argmax for max.
  virtual void reduce(ReduceOp op, const Tensor& x, AxisView v, Tensor& out, Tensor* indices) = 0;
  // out[o, j, i] = scale * g[o, i] for j < n (backward of sum/mean).
  virtual void broadcast_axis(const Tensor& g, AxisView v, double scale, Tensor& out) = 0;
  // out[o, i] = x[o, idx[o, i], i].
  virtual void gather_axis(const Tensor& x, const Tensor& idx, AxisView v, Tensor& out) = 0;
  // out[o, idx[o, i], i] += g[o, i] (out is not cleared first).
  virtual void scatter_add_axis(const Tensor& g, const Tensor& idx, AxisView v, Tensor& out) = 0;
  virtual void softmax(const Tensor& x, AxisView v, bool log, Tensor& y) = 0;
  virtual void softmax_backward(const Tensor& y, const Tensor& gy, AxisView v, bool log, Tensor& gx) = 0;
  // For o < rows: dst[o*dst_stride + dst_offset + j] (+)= src[o*src_stride + src_offset + j], j < len.
  // Serves concat, split, channel slices and the dense-block buffer.
  virtual void copy_rows(const Tensor& src, std::int64_t src_stride, std::int64_t src_offset, Tensor& dst,
                         std::int64_t dst_stride, std::int64_t dst_offset, std::int64_t rows, std::int64_t len,
                         bool accumulate) = 0;
  // Generic permutation of up to 6 dims: y = x.permute(perm) made contiguous.
  virtual void permute(const Tensor& x, const int* perm, Tensor& y) = 0;

  // ---- linear algebra -------------------------------------------------------------------------
  virtual void gemm(const GemmArgs& args, const Tensor& a, const Tensor& b, Tensor& c) = 0;

  // ---- network layers (layers/) ---------------------------------------------------------------
  // x [N,C,H,W], w [K,C/groups,R,S], bias [K] or null, y [N,K,P,Q].
  virtual void conv2d_forward(const Conv2dArgs& a, const Tensor& x, const Tensor& w, const Tensor* bias,
                              Tensor& y) = 0;
  virtual void conv2d_backward_data(const Conv2dArgs& a, const Tensor& gy, const Tensor& w, Tensor& gx) = 0;
  // gw (and gb when non-null) are overwritten, not accumulated.
  virtual void conv2d_backward_filter(const Conv2dArgs& a, const Tensor& x, const Tensor& gy, Tensor& gw,
                                      Tensor* gb) = 0;

  // Inference only (no backward follows): y = prelu(conv2d(x, w) + bias, slope), max-pooled by
  // `pool` when it is non-null (y then has the pooled size). slope [K] or [1]. The values equal
  // conv2d_forward, prelu_forward and max_pool2d_forward run in turn; fused, the convolution's
  // output need not be written out whole and read back twice.
  virtual void conv2d_prelu_forward(const Conv2dArgs& a, const Tensor& x, const Tensor& w, const Tensor* bias,
                                    const Tensor& slope, const Pool2dArgs* pool, Tensor& y) = 0;

  // Batch norm over x as [N, C, S] (S = H*W, or 1 for BatchNorm1d). gamma/beta may be null
  // (affine=False). Training: normalise with the batch mean and biased variance, store them as
  // save_mean / save_invstd ([C]), and update running stats with momentum and the unbiased variance.
  // relu: y = relu(batch_norm(x)) in the same pass (the dense block's BN-ReLU pairs); the saved
  // statistics are those of batch_norm(x) either way.
  virtual void batch_norm_train(const Tensor& x, const Tensor* gamma, const Tensor* beta, double eps,
                                double momentum, Tensor* running_mean, Tensor* running_var, bool relu, Tensor& y,
                                Tensor& save_mean, Tensor& save_invstd) = 0;
  virtual void batch_norm_eval(const Tensor& x, const Tensor* gamma, const Tensor* beta, double eps,
                               const Tensor& running_mean, const Tensor& running_var, bool relu, Tensor& y) = 0;
  // Backward of batch_norm_train. ggamma/gbeta may be null.
  virtual void batch_norm_backward(const Tensor& x, const Tensor& gy, const Tensor* gamma, const Tensor& save_mean,
                                   const Tensor& save_invstd, Tensor& gx, Tensor* ggamma, Tensor* gbeta) = 0;
  // Backward of batch_norm_eval with respect to x only (running stats are constants).
  virtual void batch_norm_eval_backward(const Tensor& gy, const Tensor* gamma, double eps, const Tensor& running_var,
                                        Tensor& gx) = 0;

  // Output size follows PyTorch (ceil_mode: the last window must start inside the padded input).
  // An undefined `indices` asks for the maxima only (inference: nothing will call backward).
  virtual void max_pool2d_forward(const Pool2dArgs& a, const Tensor& x, Tensor& y, Tensor& indices) = 0;
  virtual void max_pool2d_backward(const Pool2dArgs& a, const Tensor& gy, const Tensor& indices, Tensor& gx) = 0;
  virtual void avg_pool2d_forward(const Pool2dArgs& a, const Tensor& x, Tensor& y) = 0;
  virtual void avg_pool2d_backward(const Pool2dArgs& a, const Tensor& gy, Tensor& gx) = 0;

  // x as [N, C, S]; slope [C] or [1].
  virtual void prelu_forward(const Tensor& x, const Tensor& slope, Tensor& y) = 0;
  virtual void prelu_backward(const Tensor& x, const Tensor& slope, const Tensor& gy, Tensor& gx,
                              Tensor* gslope) = 0;

  // Softmax over the first counts[b] of F entries of scores [B, F]; the rest (and every entry of a
  // sample with count 0) get weight exactly 0.
  virtual void masked_softmax(const Tensor& scores, const Tensor& counts, Tensor& weights) = 0;
  virtual void masked_softmax_backward(const Tensor& weights, const Tensor& gw, Tensor& gscores) = 0;

  // ---- optimiser updates (train/optim) -----------------------------------------------------------
  // out[i] = a[i] * (b ? b[i] : alpha) + c[i], rounded once (a fused multiply-add): PyTorch rounds
  // so in add(c, a, alpha=alpha) and addcmul (vectorised or not on the CPU, and on CUDA), so
  // optimiser steps built on it match torch.optim bit for bit. out may alias any input. Checks
  // every operand (device, dtype, element count) itself.
  virtual void fused_multiply_add(const Tensor& a, const Tensor* b, double alpha, const Tensor& c, Tensor& out) = 0;
};

// The backend registry. The CPU backend is built in; an accelerator library registers its kind
// once, at load time (cuda/register.cpp), so the core knows no accelerator. A provider hands out
// the backend of device `index` (one instance per device, created on first use and kept for the
// life of the process) and counts the devices present.
struct BackendProvider {
  Backend& (*get)(int index) = nullptr;
  int (*count)() = nullptr;
};
void register_backend(DeviceKind kind, BackendProvider provider);

// The backend of a device; throws when this build has no backend for its kind, or the index is
// not a device that exists.
Backend& backend_for(Device device);
// Devices of a kind present (1 for the CPU; 0 for a kind this build lacks).
int device_count(DeviceKind kind);
inline int cuda_device_count() { return device_count(DeviceKind::CUDA); }
inline bool cuda_available() { return cuda_device_count() > 0; }
// Throws a clear message unless `device` can be used here (for --device options).
void check_device_usable(Device device);

}  // namespace gler
