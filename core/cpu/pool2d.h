// Pooling kernels of the CPU backend that other CPU kernels call directly (pool2d.cpp).
#pragma once
#include <cstdint>

#include "core/backend.h"

namespace gler {

// A convolution's f32 output in oneDNN's channel-blocked layout nChw8c / nChw16c:
// [N, ceil(C / block), H, W, block], the lanes past channel C padding.
struct ChannelBlocked {
  const float* data;
  std::int64_t n, c, h, w;
  int block;  // 8 or 16
};

// y [N, C, P, Q] in NCHW = max_pool2d(prelu(z, slope), *pool), or prelu(z) alone (P = H, Q = W)
// when pool is null, in one pass over z. slope holds C values, or one when shared. The values are
// those of prelu_forward and max_pool2d_forward (without indices) run in turn, NaN included.
void prelu_max_pool_blocked(const ChannelBlocked& z, const float* slope, bool shared_slope, const Pool2dArgs* pool,
                            float* y, std::int64_t P, std::int64_t Q);

}  // namespace gler
