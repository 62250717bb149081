// MTCNN detection with the nets on the GPU against the same detection on the CPU, on the bundled
// photos: same faces in the same order, boxes and landmarks within float rounding, and the
// per-stage counts equal (a borderline candidate flipping across a threshold would show there).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "io/image.h"
#include "models/faces/mtcnn_detector.h"

using namespace gler;
using models::faces::MtcnnDetector;
using models::faces::MtcnnResult;

TEST_CASE("MTCNN on cuda:0 finds the CPU's faces") {
  const MtcnnDetector cpu(models::faces::bundled_mtcnn_weights(), Device::CPU);
  const MtcnnDetector gpu(models::faces::bundled_mtcnn_weights(), Device::CUDA);
  for (const std::string stem : {"ipazc_ivan", "ipazc_no-faces", "solvay_1927_gray"}) {
    CAPTURE(stem);
    const io::Image rgb = io::to_rgb(io::read_image(std::string(GLER_SOURCE_DIR) + "/data/photos/" + stem + ".jpg"));
    const MtcnnResult a = cpu.detect(rgb), b = gpu.detect(rgb);
    CHECK(a.stage1_candidates == b.stage1_candidates);
    CHECK(a.stage2_after_threshold == b.stage2_after_threshold);
    CHECK(a.stage3_after_threshold == b.stage3_after_threshold);
    REQUIRE(a.faces.size() == b.faces.size());
    double box = 0, landmark = 0, score = 0;
    for (std::size_t i = 0; i < a.faces.size(); ++i) {
      for (int k = 0; k < 4; ++k) box = std::max(box, std::abs(a.faces[i].box[k] - b.faces[i].box[k]));
      for (int k = 0; k < 5; ++k)
        landmark = std::max({landmark, static_cast<double>(std::abs(a.faces[i].landmarks[k].x - b.faces[i].landmarks[k].x)),
                             static_cast<double>(std::abs(a.faces[i].landmarks[k].y - b.faces[i].landmarks[k].y))});
      score = std::max(score, std::abs(a.faces[i].score - b.faces[i].score));
    }
    MESSAGE(stem << ": " << a.faces.size() << " faces; max differences box " << box << " px, landmark " << landmark
                 << " px, score " << score);
    CHECK(box < 0.01);
    CHECK(landmark < 0.01);
    CHECK(score < 1e-4);
  }
}
