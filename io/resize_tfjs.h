// TensorFlow.js's tf.image.resizeBilinear as its CPU backend computes it (tfjs-backend-cpu 4.x,
// the ResizeBilinear kernel): face-api resizes its face crops this way, and a network trained on
// tfjs inputs should see the same values.
#pragma once
#include <vector>

namespace gler::io {

// src: height x width x channels floats (HWC). The kernel's arithmetic, reproduced exactly: the
// source scale (in / out, or (in - 1) / (out - 1) with align_corners and more than one output
// row/column) and every interpolation step in double, as JavaScript numbers, each output rounded
// once to float32; source row y·scale (half_pixel_centers: (y + 0.5)·scale − 0.5), its floor
// clamped at 0 and its ceil at the last row, the columns likewise; left-right interpolation of
// the top and bottom rows first, then top-bottom. Throws when both options are set (tfjs refuses
// that too) or a size is not positive.
std::vector<float> resize_bilinear_tfjs(const float* src, int height, int width, int channels, int out_height,
                                        int out_width, bool align_corners = false, bool half_pixel_centers = false);

}  // namespace gler::io
