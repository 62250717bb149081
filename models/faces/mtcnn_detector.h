// MTCNN face detection exactly as the seed's detect_faces (SEED_SPEC §3.3-3.4): an image pyramid,
// P-Net on every level, per-scale and cross-scale NMS, box calibration and squaring, R-Net on
// 24x24 and O-Net on 48x48 crops resized the way Pillow does, and a final NMS in `min` mode.
#pragma once
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "io/image.h"
#include "models/faces/face.h"

namespace gler::models {
class MtcnnNets;
}

namespace gler::models::faces {

struct MtcnnOptions {
  double min_face_size = 20;
  double scale_factor = 0.707;  // the seed's factor: exactly 0.707, not sqrt(0.5)
  std::array<float, 3> thresholds{0.6f, 0.7f, 0.8f};  // strict `>` on the float32 probabilities
  double pnet_scale_nms = 0.5;  // the per-scale NMS, hard-coded in the seed
  std::array<double, 3> nms_thresholds{0.7, 0.7, 0.7};
  // The seed indexes the O-Net features with the final NMS picks relative to the thresholded
  // list, so a face may get another candidate's feature (SEED_SPEC §3.6). Off: each face gets its own.
  bool seed_feature_indexing = false;
};

// One pyramid level, for comparison with the reference JSON's `scales`.
struct PyramidLevel {
  double scale = 0;
  int width = 0, height = 0;         // ceil(W·s), ceil(H·s)
  int map_height = 0, map_width = 0;  // P-Net output
  int above_threshold = 0, after_nms = 0;
};

// A candidate box [x1, y1, x2, y2, score] between stages.
using Candidate = std::array<double, 5>;

struct MtcnnResult {
  std::vector<DetectedFace> faces;  // in the final NMS pick order (descending score)
  std::vector<PyramidLevel> levels;
  std::vector<Candidate> stage1_boxes;  // the R-Net input boxes (calibrated, squared, rounded)
  std::vector<Candidate> stage2_boxes;  // the O-Net input boxes
  int stage1_candidates = 0, stage1_after_nms = 0;
  int stage2_after_threshold = 0, stage2_after_nms = 0;
  int stage3_after_threshold = 0;
};

class MtcnnDetector {
 public:
  // weights: a file such as data/mtcnn/mtcnn.safetensors. The nets run on `device`.
  MtcnnDetector(const std::string& weights, Device device = Device::CPU, MtcnnOptions options = {});
  ~MtcnnDetector();
  MtcnnDetector(MtcnnDetector&&) noexcept;

  // `rgb` must have 3 channels (io::to_rgb first). A photo without candidates gives no faces.
  // Safe to call from several threads at once.
  MtcnnResult detect(const io::Image& rgb) const;

  // O-Net's 256-d penultimate features for O-Net input boxes [x1, y1, x2, y2] (x2/y2 inclusive),
  // computed as detect() computes its faces' features from its O-Net input boxes (the stage-2
  // output): each cut out of `rgb` with zeros outside, Pillow-resized to 48x48, run in the same
  // batch slices. For faces found by other means, pass onet_input_box(face box).
  std::vector<std::vector<float>> onet_features(const io::Image& rgb, const std::vector<std::array<double, 4>>& input_boxes) const;

  const MtcnnOptions& options() const { return options_; }

 private:
  std::unique_ptr<MtcnnNets> nets_;
  Device device_;
  MtcnnOptions options_;
};

// A box squared about its centre and rounded (the seed's convert_to_square + np.round), as the
// detector turns the boxes of one stage into the input boxes of the next.
std::array<double, 4> onet_input_box(const std::array<double, 4>& box);

// The path of the bundled MTCNN weights (data/mtcnn/mtcnn.safetensors) in this source tree.
std::string bundled_mtcnn_weights();

}  // namespace gler::models::faces
