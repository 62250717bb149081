// One detected face as the seed's MTCNN returns it (data/reference/mtcnn/README.md conventions).
#pragma once
#include <array>
#include <vector>

namespace gler::models::faces {

struct Point {
  float x = 0, y = 0;
};

struct DetectedFace {
  // [x1, y1, x2, y2], x2/y2 inclusive (w = x2 − x1 + 1); calibrated by O-Net, neither squared,
  // rounded nor clipped, so it may reach outside the image.
  std::array<double, 4> box{};
  double score = 0;  // O-Net face probability (a float32 value)
  // Left eye, right eye, nose, left and right mouth corner ("left" = smaller x), computed from
  // the O-Net input box and kept as float32, as the seed does.
  std::array<Point, 5> landmarks{};
  std::vector<float> feature;  // O-Net's 256-d penultimate activation (SEED_SPEC §3.6)
};

}  // namespace gler::models::faces
