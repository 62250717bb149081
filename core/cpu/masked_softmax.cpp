// Softmax over the first counts[b] entries of each row of scores [B, F]. Masked slots, and every
// slot of a row with count 0, get weight exactly 0 (never NaN), and their gradients are 0.
#include <algorithm>
#include <cmath>

#include "core/cpu/cpu_backend.h"
#include "core/tensor.h"

namespace gler {

void CpuBackend::masked_softmax(const Tensor& scores, const Tensor& counts, Tensor& weights) {
  dispatch_float(scores.dtype(), "masked_softmax", [&]<class T>() {
    const std::int64_t rows = scores.shape()[0], f = scores.shape()[1];
    const T* ps = scores.host_data<T>();
    const std::int64_t* pc = counts.host_data<std::int64_t>();
    T* pw = weights.host_data<T>();
    for (std::int64_t b = 0; b < rows; ++b) {
      const std::int64_t n = std::clamp<std::int64_t>(pc[b], 0, f);
      const T* s = ps + b * f;
      T* w = pw + b * f;
      T mx = n > 0 ? s[0] : T(0);
      for (std::int64_t j = 1; j < n; ++j) mx = std::max(mx, s[j]);
      T sum = 0;
      for (std::int64_t j = 0; j < n; ++j) sum += std::exp(s[j] - mx);
      for (std::int64_t j = 0; j < n; ++j) w[j] = std::exp(s[j] - mx) / sum;
      for (std::int64_t j = n; j < f; ++j) w[j] = T(0);
    }
  });
}

// gs = w·(gw - Σ w·gw): zero wherever w is zero, so masked slots need no counts here.
void CpuBackend::masked_softmax_backward(const Tensor& weights, const Tensor& gw, Tensor& gscores) {
  dispatch_float(weights.dtype(), "masked_softmax backward", [&]<class T>() {
    const std::int64_t rows = weights.shape()[0], f = weights.shape()[1];
    const T* pw = weights.host_data<T>();
    const T* pg = gw.host_data<T>();
    T* pgs = gscores.host_data<T>();
    for (std::int64_t b = 0; b < rows; ++b) {
      T dot = 0;
      for (std::int64_t j = 0; j < f; ++j) dot += pw[b * f + j] * pg[b * f + j];
      for (std::int64_t j = 0; j < f; ++j) pgs[b * f + j] = pw[b * f + j] * (pg[b * f + j] - dot);
    }
  });
}

}  // namespace gler
