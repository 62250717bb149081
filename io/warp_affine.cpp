// OpenCV's warpAffine for 8-bit images (imgwarp.cpp: hal::warpAffine, WarpAffineInvoker, remapBilinear,
// remapBicubic, initInterTab2D), restated per pixel. OpenCV walks the output in blocks and vectorises,
// but every output pixel depends only on its own fixed-point source coordinate, so the result is the same.
#include "io/warp_affine.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <numbers>
#include <cstdint>
#include <vector>

#include "core/error.h"

namespace gler::io {

namespace {

constexpr int kInterBits = 5;  // source coordinates are resolved to 1/32 px
constexpr int kTabSize = 1 << kInterBits;
constexpr int kAbBits = 10;  // the matrix terms are first scaled to 1/1024 px
constexpr int kAbScale = 1 << kAbBits;
constexpr int kRoundDelta = kAbScale / kTabSize / 2;  // rounds 1/1024 to the nearest 1/32
constexpr int kCoefBits = 15;                         // interpolation weights are int16 at 2^15
constexpr int kCoefScale = 1 << kCoefBits;

// cvRound on x86-64 (cvtsd2si): round half to even; out of range or NaN gives INT_MIN.
int cv_round(double v) {
  const double r = std::nearbyint(v);
  if (!(r >= static_cast<double>(INT_MIN) && r <= static_cast<double>(INT_MAX))) return INT_MIN;
  return static_cast<int>(r);
}

int cv_round(float v) {
  const float r = std::nearbyint(v);
  if (!(r >= -2147483648.0f && r < 2147483648.0f)) return INT_MIN;
  return static_cast<int>(r);
}

std::int16_t saturate_short(int v) { return static_cast<std::int16_t>(std::clamp(v, -32768, 32767)); }

// The 1-D weights of interpolateLinear / interpolateCubic, in float as OpenCV computes them
// (the build is ISO C++, so GCC does not contract these into FMAs).
void linear_weights(float x, float* w) {
  w[0] = 1.f - x;
  w[1] = x;
}

void cubic_weights(float x, float* w) {
  const float A = -0.75f;
  w[0] = ((A * (x + 1) - 5 * A) * (x + 1) + 8 * A) * (x + 1) - 4 * A;
  w[1] = ((A + 2) * x - (A + 3)) * x * x + 1;
  w[2] = ((A + 2) * (1 - x) - (A + 3)) * (1 - x) * (1 - x) + 1;
  w[3] = 1.f - w[0] - w[1] - w[2];
}

// initInterTab2D(fixpt = true): for each of the 32x32 sub-pixel positions (row-major: y sub-position
// times 32 plus x sub-position) a K x K int16 kernel, the product of the 1-D weights rounded to 2^15,
// then nudged so that it sums to exactly 2^15: the excess is taken from the smallest, or a shortfall
// given to the largest, of the four central taps.
template <int K>
struct KernelTable {
  std::vector<std::int16_t> weights = std::vector<std::int16_t>(kTabSize * kTabSize * K * K);
  const std::int16_t* kernel(int index) const { return weights.data() + index * K * K; }
};

template <int K>
KernelTable<K> make_kernel_table() {
  float w1d[kTabSize][K];
  for (int i = 0; i < kTabSize; ++i) {
    const float x = static_cast<float>(i) * (1.f / kTabSize);
    if constexpr (K == 2) linear_weights(x, w1d[i]);
    else cubic_weights(x, w1d[i]);
  }
  KernelTable<K> table;
  for (int i = 0; i < kTabSize; ++i)
    for (int j = 0; j < kTabSize; ++j) {
      std::int16_t* k = table.weights.data() + (i * kTabSize + j) * K * K;
      int sum = 0;
      for (int k1 = 0; k1 < K; ++k1)
        for (int k2 = 0; k2 < K; ++k2) {
          const float v = w1d[i][k1] * w1d[j][k2];
          k[k1 * K + k2] = saturate_short(cv_round(v * kCoefScale));
          sum += k[k1 * K + k2];
        }
      if (sum == kCoefScale) continue;
      const int c = K / 2;
      int min_at = c * K + c, max_at = c * K + c;
      for (int k1 = c; k1 < c + 2; ++k1)
        for (int k2 = c; k2 < c + 2; ++k2) {
          const int at = k1 * K + k2;
          if (k[at] < k[min_at]) min_at = at;
          else if (k[at] > k[max_at]) max_at = at;
        }
      const int diff = sum - kCoefScale;
      const int at = diff < 0 ? max_at : min_at;
      k[at] = static_cast<std::int16_t>(k[at] - diff);
    }
  return table;
}

template <int K>
const KernelTable<K>& kernel_table() {
  static const KernelTable<K> table = make_kernel_table<K>();
  return table;
}

// Wraps like OpenCV's int arithmetic on x86 (the sum of two cvRound results can exceed int).
int wrap_add(int a, int b) {
  return static_cast<int>(static_cast<std::uint32_t>(a) + static_cast<std::uint32_t>(b));
}

// One output image by remapping with K x K kernels anchored K/2 - 1 taps before the source
// coordinate's integer part. Taps outside the source are the border value 0, which contributes
// nothing (remapBilinear / remapBicubic with BORDER_CONSTANT reduce to exactly this sum).
template <int K>
void remap_fixed_point(const Image& src, const Affine& inverse, Image& dst) {
  const KernelTable<K>& table = kernel_table<K>();
  const int cn = src.channels;
  const std::size_t src_stride = static_cast<std::size_t>(src.width) * cn;
  std::vector<int> adelta(dst.width), bdelta(dst.width);
  for (int x = 0; x < dst.width; ++x) {
    adelta[x] = cv_round(inverse[0] * x * kAbScale);
    bdelta[x] = cv_round(inverse[3] * x * kAbScale);
  }
  for (int y = 0; y < dst.height; ++y) {
    const int X0 = wrap_add(cv_round((inverse[1] * y + inverse[2]) * kAbScale), kRoundDelta);
    const int Y0 = wrap_add(cv_round((inverse[4] * y + inverse[5]) * kAbScale), kRoundDelta);
    std::uint8_t* out = dst.row(y);
    for (int x = 0; x < dst.width; ++x, out += cn) {
      const int X = wrap_add(X0, adelta[x]) >> (kAbBits - kInterBits);
      const int Y = wrap_add(Y0, bdelta[x]) >> (kAbBits - kInterBits);
      const int sx = saturate_short(X >> kInterBits) - (K / 2 - 1);
      const int sy = saturate_short(Y >> kInterBits) - (K / 2 - 1);
      const std::int16_t* w = table.kernel((Y & (kTabSize - 1)) * kTabSize + (X & (kTabSize - 1)));
      const int kx0 = std::max(0, -sx), kx1 = std::min(K, src.width - sx);
      const int ky0 = std::max(0, -sy), ky1 = std::min(K, src.height - sy);
      for (int c = 0; c < cn; ++c) {
        int sum = 0;
        for (int ky = ky0; ky < ky1; ++ky) {
          const std::uint8_t* s = src.pixels.data() + (sy + ky) * src_stride + c;
          for (int kx = kx0; kx < kx1; ++kx) sum += s[(sx + kx) * cn] * w[ky * K + kx];
        }
        // FixedPtCast<int, uchar, 15>: round, then saturate to 0..255.
        out[c] = static_cast<std::uint8_t>(std::clamp((sum + (1 << (kCoefBits - 1))) >> kCoefBits, 0, 255));
      }
    }
  }
}

}  // namespace

Affine invert_affine(const Affine& M) {
  // invertAffineTransform / warpAffine's inline inverse; a singular matrix becomes all zeros.
  double D = M[0] * M[4] - M[1] * M[3];
  D = D != 0 ? 1. / D : 0.;
  const double a = M[4] * D, b = -M[1] * D, d = -M[3] * D, e = M[0] * D;
  return {a, b, -a * M[2] - b * M[5], d, e, -d * M[2] - e * M[5]};
}

Image warp_affine(const Image& src, const Affine& M, int width, int height, WarpInterpolation interpolation) {
  GLER_CHECK(!src.empty(), "warp_affine: the source image is empty");
  GLER_CHECK(src.channels >= 1 && src.channels <= 4, "warp_affine: expected 1 to 4 channels, got " << src.channels);
  GLER_CHECK(src.pixels.size() == static_cast<std::size_t>(src.width) * src.height * src.channels,
             "warp_affine: " << src.width << "x" << src.height << "x" << src.channels << " image holds "
                             << src.pixels.size() << " bytes");
  GLER_CHECK(width > 0 && height > 0, "warp_affine: output size must be positive, got " << width << "x" << height);
  Image dst(width, height, src.channels);
  const Affine inverse = invert_affine(M);
  if (interpolation == WarpInterpolation::cubic) remap_fixed_point<4>(src, inverse, dst);
  else remap_fixed_point<2>(src, inverse, dst);
  return dst;
}

Affine rotation_matrix_2d(float cx, float cy, double angle_deg, double scale) {
  // getRotationMatrix2D_: `angle *= CV_PI/180`, so the constant is folded first.
  const double angle = angle_deg * (std::numbers::pi / 180);
  const double alpha = std::cos(angle) * scale;
  const double beta = std::sin(angle) * scale;
  const double x = cx, y = cy;
  return {alpha, beta, (1 - alpha) * x - beta * y, -beta, alpha, beta * x + (1 - alpha) * y};
}

}  // namespace gler::io
