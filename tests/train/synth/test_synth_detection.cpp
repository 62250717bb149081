// MtcnnDetector::onet_features computes exactly the features detect() gives its own faces, and the
// project's MTCNN finds a fair share of the drawn faces of 48 px and more, with landmarks where
// gler_synth puts them: the synthetic cache imitates what a detector would have written.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "io/image.h"
#include "models/faces/mtcnn_detector.h"
#include "train/synth/synth_dataset.h"
#include "train/synth/synth_scene.h"

namespace faces = gler::models::faces;
using namespace gler::synth;

namespace {

const faces::MtcnnDetector& detector() {
  static const faces::MtcnnDetector d(faces::bundled_mtcnn_weights());
  return d;
}

double iou(const std::array<double, 4>& a, const std::array<double, 4>& b) {
  const double w = std::max(0.0, std::min(a[2], b[2]) - std::max(a[0], b[0]) + 1);
  const double h = std::max(0.0, std::min(a[3], b[3]) - std::max(a[1], b[1]) + 1);
  const double inter = w * h;
  return inter / ((a[2] - a[0] + 1) * (a[3] - a[1] + 1) + (b[2] - b[0] + 1) * (b[3] - b[1] + 1) - inter);
}

}  // namespace

TEST_CASE("onet_features of the O-Net input boxes are detect()'s features, bit for bit") {
  // The stage-2 boxes are detect()'s O-Net inputs as they are (squared, then each side rounded on
  // its own, so not always exactly square).
  for (const char* photo : {"ipazc_ivan", "solvay_1927_gray"}) {
    CAPTURE(photo);
    const gler::io::Image rgb = gler::io::to_rgb(gler::io::read_image(std::string(GLER_SOURCE_DIR) + "/data/photos/" + photo + ".jpg"));
    const faces::MtcnnResult result = detector().detect(rgb);
    REQUIRE(!result.faces.empty());
    std::vector<std::array<double, 4>> inputs;
    for (const faces::Candidate& c : result.stage2_boxes) inputs.push_back({c[0], c[1], c[2], c[3]});
    const std::vector<std::vector<float>> features = detector().onet_features(rgb, inputs);
    REQUIRE(features.size() == inputs.size());
    for (const faces::DetectedFace& face : result.faces)
      CHECK(std::count(features.begin(), features.end(), face.feature) >= 1);  // boxes may repeat
  }
  CHECK(detector().onet_features(gler::io::Image(20, 20, 3), {}).empty());
  // A 20 x 40 box becomes the 40 x 40 square about its centre.
  CHECK(faces::onet_input_box({10, 20, 29, 59}) == std::array<double, 4>{0, 20, 39, 59});
  CHECK(faces::onet_input_box({10.4, 20, 29.4, 39}) == std::array<double, 4>{10, 20, 29, 39});
}

TEST_CASE("MTCNN finds drawn faces of 48 px and more, with the drawn landmarks") {
  int large = 0, found = 0, detections = 0, unmatched = 0;
  double landmark_error = 0;
  for (std::uint64_t stream = 0; stream < 30; ++stream) {
    SynthRandom random(1, stream);
    const Scene scene = make_scene(random, static_cast<int>(stream % 3), 6);
    // As gler_faces would see the photo: through its JPEG.
    const gler::io::Image photo = gler::io::decode_image(gler::io::encode_jpeg(scene.image, kPhotoJpegQuality), "scene");
    const std::vector<faces::DetectedFace> detected = detector().detect(photo).faces;
    detections += static_cast<int>(detected.size());
    for (const faces::DetectedFace& d : detected)
      unmatched += std::none_of(scene.faces.begin(), scene.faces.end(), [&](const SceneFace& f) { return iou(f.box, d.box) >= 0.4; });
    for (const SceneFace& f : scene.faces) {
      const double width = f.box[2] - f.box[0];
      if (width < 48) continue;
      ++large;
      const auto match = std::find_if(detected.begin(), detected.end(), [&](const faces::DetectedFace& d) { return iou(f.box, d.box) >= 0.4; });
      if (match == detected.end()) continue;
      ++found;
      for (int k = 0; k < 5; ++k)
        landmark_error += std::hypot(match->landmarks[k].x - f.landmarks[k].x, match->landmarks[k].y - f.landmarks[k].y) / width / 5;
    }
  }
  MESSAGE("MTCNN found " << found << " of " << large << " drawn faces of 48 px and more; " << unmatched << " of "
                         << detections << " detections match no drawn face");
  REQUIRE(large >= 20);
  CHECK(found * 5 >= large);  // at least 20%
  CHECK(unmatched * 10 <= detections);
  REQUIRE(found > 0);
  CHECK(landmark_error / found < 0.08);  // mean distance per landmark, in face widths
}
