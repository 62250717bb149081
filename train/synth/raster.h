// Anti-aliased shapes on RGB images for the synthetic photos: each pixel is painted in proportion
// to how much of it the shape covers, estimated from its signed distance to the shape's edge
// (coverage = clamp(0.5 - distance, 0, 1)). Pixel (x, y) is the sample at coordinates (x, y), the
// convention of MTCNN's boxes and landmarks. Everything is clipped to the image.
#pragma once
#include <vector>

#include "io/draw.h"
#include "io/image.h"

namespace gler::synth {

struct Vec2 {
  double x = 0, y = 0;
};

// A shape's placement: centre, and rotation in radians (positive turns +x towards +y, i.e.
// clockwise on screen). `to_image` maps shape coordinates (u, v) to the image.
struct Pose {
  Vec2 centre;
  double angle = 0;
  Vec2 to_image(double u, double v) const;
};

// A filled ellipse with radii rx (along the pose's u axis) and ry (along v).
void fill_ellipse(io::Image& image, const Pose& pose, double rx, double ry, io::Rgb color, double opacity = 1.0);
// A filled rectangle with half-sizes hx, hy.
void fill_box(io::Image& image, const Pose& pose, double hx, double hy, io::Rgb color, double opacity = 1.0);
// A line `width` px wide along the points (image coordinates), with round joins and ends.
void stroke_polyline(io::Image& image, const std::vector<Vec2>& points, double width, io::Rgb color,
                     double opacity = 1.0);

}  // namespace gler::synth
