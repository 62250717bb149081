// Convolution through cuDNN's legacy (v7-style) API: forward, backward-data, backward-filter and
// the bias terms. cuDNN 9 deprecates this API in favour of the graph API; every cuDNN call of the
// backend is in this file so that the move touches nothing else.
//
// Per shape, a plan caches the descriptors and the algorithm chosen by cuDNN's heuristics
// (cudnnGet*Algorithm_v7: no benchmarking, so the first call of a shape stays cheap and the same
// algorithm is chosen every run). Workspaces come from the caching allocator. FP32 convolutions
// use FMA math unless GLER_TF32=1: cuDNN's default math would silently use TF32 tensor cores on
// sm_80+. Some algorithms (several backward-filter and backward-data ones) accumulate with
// atomics, so the same algorithm may still round differently from run to run: GLER_DETERMINISTIC=1
// restricts the choice to those cuDNN reports as deterministic.
#include <array>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/tensor.h"
#include "cuda/check.h"
#include "cuda/device_backend.h"

namespace gler::cuda {

namespace {

template <class H, cudnnStatus_t (*Create)(H*), cudnnStatus_t (*Destroy)(H)>
class Descriptor {
 public:
  Descriptor() { GLER_CUDNN_CHECK(Create(&h_)); }
  ~Descriptor() { Destroy(h_); }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  H get() const { return h_; }

 private:
  H h_{};
};
using TensorDesc = Descriptor<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor>;
using FilterDesc = Descriptor<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor>;
using ConvDesc =
    Descriptor<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor, cudnnDestroyConvolutionDescriptor>;

// Workspaces beyond this are not worth it for a faster algorithm.
constexpr std::size_t kMaxWorkspace = std::size_t{1} << 30;

struct AlgoChoice {
  int algo;
  std::size_t workspace;
};

int dim(std::int64_t v) {
  GLER_CHECK(v >= 0 && v <= INT_MAX, "conv2d: dimension " << v << " exceeds cuDNN's 32-bit sizes");
  return static_cast<int>(v);
}

cudnnDataType_t cudnn_type(DType t) {
  GLER_CHECK(t == DType::f32 || t == DType::f64, "conv2d needs f32 or f64, got " << dtype_name(t));
  return t == DType::f32 ? CUDNN_DATA_FLOAT : CUDNN_DATA_DOUBLE;
}

// alpha = 1, beta = 0 (or 1) in the data type's precision, as cuDNN requires.
struct Scalars {
  float f[2] = {0.0f, 1.0f};
  double d[2] = {0.0, 1.0};
  const void* zero(DType t) const { return t == DType::f32 ? static_cast<const void*>(&f[0]) : &d[0]; }
  const void* one(DType t) const { return t == DType::f32 ? static_cast<const void*>(&f[1]) : &d[1]; }
};
constexpr Scalars kScalars;

// x [N,C,H,W], w [K,C/groups,R,S], y [N,K,P,Q] and the convolution's arguments.
using ConvKey = std::array<std::int64_t, 20>;

ConvKey make_key(const Conv2dArgs& a, const Tensor& x, const Tensor& w, const Tensor& y) {
  GLER_CHECK(x.ndim() == 4 && w.ndim() == 4 && y.ndim() == 4,
             "conv2d: expected 4-d x, w, y, got " << describe(x) << ", " << describe(w) << ", " << describe(y));
  const Shape &xs = x.shape(), &ws = w.shape(), &ys = y.shape();
  return {xs[0], xs[1], xs[2], xs[3], ws[0], ws[1], ws[2], ws[3], ys[2], ys[3],
          a.stride_h, a.stride_w, a.pad_h, a.pad_w, a.dilation_h, a.dilation_w, a.groups,
          static_cast<std::int64_t>(x.dtype()), ys[0], ys[1]};
}

struct ConvPlan {
  ConvPlan(const ConvKey& k, bool tf32, bool deterministic_only)
      : dtype(static_cast<DType>(k[17])), deterministic(deterministic_only) {
    const cudnnDataType_t dt = cudnn_type(dtype);
    GLER_CUDNN_CHECK(cudnnSetTensor4dDescriptor(x.get(), CUDNN_TENSOR_NCHW, dt, dim(k[0]), dim(k[1]), dim(k[2]), dim(k[3])));
    GLER_CUDNN_CHECK(cudnnSetFilter4dDescriptor(w.get(), dt, CUDNN_TENSOR_NCHW, dim(k[4]), dim(k[5]), dim(k[6]), dim(k[7])));
    GLER_CUDNN_CHECK(cudnnSetTensor4dDescriptor(y.get(), CUDNN_TENSOR_NCHW, dt, dim(k[0]), dim(k[4]), dim(k[8]), dim(k[9])));
    GLER_CUDNN_CHECK(cudnnSetTensor4dDescriptor(bias.get(), CUDNN_TENSOR_NCHW, dt, 1, dim(k[4]), 1, 1));
    GLER_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(conv.get(), dim(k[12]), dim(k[13]), dim(k[10]), dim(k[11]),
                                                     dim(k[14]), dim(k[15]), CUDNN_CROSS_CORRELATION, dt));
    GLER_CUDNN_CHECK(cudnnSetConvolutionGroupCount(conv.get(), dim(k[16])));
    GLER_CUDNN_CHECK(cudnnSetConvolutionMathType(conv.get(), dtype == DType::f32 && !tf32 ? CUDNN_FMA_MATH
                                                                                         : CUDNN_DEFAULT_MATH));
    allow_tensor_ops = dtype != DType::f32 || tf32;
    // The caller's output shape must be the one cuDNN derives from the arguments.
    int n = 0, c = 0, h = 0, wd = 0;
    GLER_CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(conv.get(), x.get(), w.get(), &n, &c, &h, &wd));
    GLER_CHECK(n == k[18] && c == k[19] && h == k[8] && wd == k[9],
               "conv2d: output [" << k[18] << ", " << k[19] << ", " << k[8] << ", " << k[9] << "] does not match [" << n
                                  << ", " << c << ", " << h << ", " << wd << "] of the arguments");
  }

  // The first algorithm of the heuristic ranking that works, fits the workspace limit, in FP32
  // without GLER_TF32 does not use tensor cores and, under GLER_DETERMINISTIC=1, is deterministic.
  template <class Perf>
  std::optional<AlgoChoice> pick(const Perf* perf, int count) const {
    for (int i = 0; i < count; ++i) {
      if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > kMaxWorkspace) continue;
      if (!allow_tensor_ops && (perf[i].mathType == CUDNN_TENSOR_OP_MATH ||
                                perf[i].mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION))
        continue;
      if (deterministic && perf[i].determinism != CUDNN_DETERMINISTIC) continue;
      return AlgoChoice{static_cast<int>(perf[i].algo), 0};
    }
    return std::nullopt;
  }

  // The error when pick() finds nothing, naming the restriction that may be the cause.
  std::string no_algorithm(const char* pass) const {
    std::string why = std::string("conv2d ") + pass + ": cuDNN offers no usable algorithm for this shape";
    if (deterministic) why += " that is deterministic (GLER_DETERMINISTIC=1)";
    return why;
  }

  const AlgoChoice& forward(cudnnHandle_t h) {
    if (!fwd) {
      cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
      int got = 0;
      GLER_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, x.get(), w.get(), conv.get(), y.get(),
                                                              CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &got, perf));
      auto choice = pick(perf, got);
      GLER_CHECK(choice, no_algorithm("forward"));
      GLER_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(h, x.get(), w.get(), conv.get(), y.get(),
                                                               static_cast<cudnnConvolutionFwdAlgo_t>(choice->algo),
                                                               &choice->workspace));
      fwd = choice;
    }
    return *fwd;
  }

  const AlgoChoice& backward_data(cudnnHandle_t h) {
    if (!bwd_data) {
      cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
      int got = 0;
      GLER_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, w.get(), y.get(), conv.get(), x.get(),
                                                                   CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &got, perf));
      auto choice = pick(perf, got);
      GLER_CHECK(choice, no_algorithm("backward-data"));
      GLER_CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(
          h, w.get(), y.get(), conv.get(), x.get(), static_cast<cudnnConvolutionBwdDataAlgo_t>(choice->algo),
          &choice->workspace));
      bwd_data = choice;
    }
    return *bwd_data;
  }

  const AlgoChoice& backward_filter(cudnnHandle_t h) {
    if (!bwd_filter) {
      cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
      int got = 0;
      GLER_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(
          h, x.get(), y.get(), conv.get(), w.get(), CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &got, perf));
      auto choice = pick(perf, got);
      GLER_CHECK(choice, no_algorithm("backward-filter"));
      GLER_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(
          h, x.get(), y.get(), conv.get(), w.get(), static_cast<cudnnConvolutionBwdFilterAlgo_t>(choice->algo),
          &choice->workspace));
      bwd_filter = choice;
    }
    return *bwd_filter;
  }

  DType dtype;
  bool deterministic;
  bool allow_tensor_ops = false;
  TensorDesc x, y, bias;
  FilterDesc w;
  ConvDesc conv;
  std::optional<AlgoChoice> fwd, bwd_data, bwd_filter;
};

}  // namespace

class ConvPlanCache {
 public:
  explicit ConvPlanCache(cudaStream_t stream) : handle_(stream), deterministic_(deterministic_requested()) {}
  cudnnHandle_t handle() const { return handle_.get(); }

  ConvPlan& plan(const ConvKey& key, bool tf32) {
    auto it = plans_.find(key);
    if (it == plans_.end()) it = plans_.emplace(key, std::make_unique<ConvPlan>(key, tf32, deterministic_)).first;
    return *it->second;
  }

 private:
  static bool deterministic_requested() {
    const char* v = std::getenv("GLER_DETERMINISTIC");
    return v != nullptr && std::strcmp(v, "1") == 0;
  }

  CudnnHandle handle_;
  // GLER_DETERMINISTIC=1 when the cache was made (the backend's first convolution).
  bool deterministic_;
  std::map<ConvKey, std::unique_ptr<ConvPlan>> plans_;
};

void ConvPlanCacheDeleter::operator()(ConvPlanCache* cache) const { delete cache; }

ConvPlanCache& CudaBackend::conv_plans() {
  if (!conv_plans_) conv_plans_.reset(new ConvPlanCache(stream()));
  return *conv_plans_;
}

void CudaBackend::conv2d_forward(const Conv2dArgs& a, const Tensor& x, const Tensor& w, const Tensor* bias,
                                 Tensor& y) {
  const DeviceScope scope = on_device();
  if (y.numel() == 0) return;
  ConvPlanCache& cache = conv_plans();
  ConvPlan& p = cache.plan(make_key(a, x, w, y), tf32());
  const AlgoChoice& c = p.forward(cache.handle());
  DeviceBuffer ws(alloc_, c.workspace);
  const DType t = x.dtype();
  GLER_CUDNN_CHECK(cudnnConvolutionForward(cache.handle(), kScalars.one(t), p.x.get(), x.raw(), p.w.get(), w.raw(),
                                           p.conv.get(), static_cast<cudnnConvolutionFwdAlgo_t>(c.algo), ws.get(),
                                           ws.bytes(), kScalars.zero(t), p.y.get(), y.raw()));
  if (bias)
    GLER_CUDNN_CHECK(cudnnAddTensor(cache.handle(), kScalars.one(t), p.bias.get(), bias->raw(), kScalars.one(t),
                                    p.y.get(), y.raw()));
}

void CudaBackend::conv2d_prelu_forward(const Conv2dArgs& a, const Tensor& x, const Tensor& w, const Tensor* bias,
                                       const Tensor& slope, const Pool2dArgs* pool, Tensor& y) {
  const Shape conv = check_conv2d_prelu(a, x, w, bias, slope, pool, y);
  // cuDNN's fused convolutions have no PReLU: the three kernels in turn, PReLU in place (it is
  // elementwise), on the convolution's output.
  if (!pool) {
    conv2d_forward(a, x, w, bias, y);
    return prelu_forward(y, slope, y);
  }
  Tensor z = Tensor::empty(conv, x.dtype(), x.device());
  conv2d_forward(a, x, w, bias, z);
  prelu_forward(z, slope, z);
  Tensor no_indices;
  max_pool2d_forward(*pool, z, y, no_indices);
}

void CudaBackend::conv2d_backward_data(const Conv2dArgs& a, const Tensor& gy, const Tensor& w, Tensor& gx) {
  const DeviceScope scope = on_device();
  if (gx.numel() == 0) return;
  ConvPlanCache& cache = conv_plans();
  ConvPlan& p = cache.plan(make_key(a, gx, w, gy), tf32());
  const AlgoChoice& c = p.backward_data(cache.handle());
  DeviceBuffer ws(alloc_, c.workspace);
  const DType t = gy.dtype();
  GLER_CUDNN_CHECK(cudnnConvolutionBackwardData(cache.handle(), kScalars.one(t), p.w.get(), w.raw(), p.y.get(),
                                                gy.raw(), p.conv.get(), static_cast<cudnnConvolutionBwdDataAlgo_t>(c.algo),
                                                ws.get(), ws.bytes(), kScalars.zero(t), p.x.get(), gx.raw()));
}

void CudaBackend::conv2d_backward_filter(const Conv2dArgs& a, const Tensor& x, const Tensor& gy, Tensor& gw,
                                         Tensor* gb) {
  const DeviceScope scope = on_device();
  if (gw.numel() == 0) return;
  if (gy.numel() == 0) {  // an empty batch contributes nothing (and cuDNN rejects empty tensors)
    fill(gw, 0.0);
    if (gb) fill(*gb, 0.0);
    return;
  }
  ConvPlanCache& cache = conv_plans();
  ConvPlan& p = cache.plan(make_key(a, x, gw, gy), tf32());
  const DType t = x.dtype();
  const AlgoChoice& c = p.backward_filter(cache.handle());
  DeviceBuffer ws(alloc_, c.workspace);
  GLER_CUDNN_CHECK(cudnnConvolutionBackwardFilter(
      cache.handle(), kScalars.one(t), p.x.get(), x.raw(), p.y.get(), gy.raw(), p.conv.get(),
      static_cast<cudnnConvolutionBwdFilterAlgo_t>(c.algo), ws.get(), ws.bytes(), kScalars.zero(t), p.w.get(), gw.raw()));
  if (gb)
    GLER_CUDNN_CHECK(cudnnConvolutionBackwardBias(cache.handle(), kScalars.one(t), p.y.get(), gy.raw(),
                                                  kScalars.zero(t), p.bias.get(), gb->raw()));
}

}  // namespace gler::cuda
