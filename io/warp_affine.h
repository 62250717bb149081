// cv2.warpAffine and cv2.getRotationMatrix2D, reproduced bit for bit from OpenCV's generic C++
// path (imgwarp.cpp, 3.x/4.x, no IPP/OpenCL), because the seed aligned its faces with them.
#pragma once
#include <array>

#include "io/image.h"

namespace gler::io {

// Row-major 2x3 matrix [a b c; d e f] mapping source (x, y) to destination (a x + b y + c, d x + e y + f).
using Affine = std::array<double, 6>;

enum class WarpInterpolation { linear, cubic };

// cv2.warpAffine(src, M, (width, height), flags=interpolation), BORDER_CONSTANT with value 0:
// M is inverted in double, destination pixels are mapped back at 1/32 px fixed point, and the
// interpolation weights are OpenCV's int16 tables (cubic: Keys a = −0.75). Any channel count.
Image warp_affine(const Image& src, const Affine& M, int width, int height,
                  WarpInterpolation interpolation = WarpInterpolation::cubic);

// cv2.getRotationMatrix2D(center, angle_deg, scale); OpenCV takes the centre as a float32 Point2f.
Affine rotation_matrix_2d(float cx, float cy, double angle_deg, double scale);

Affine invert_affine(const Affine& M);

}  // namespace gler::io
