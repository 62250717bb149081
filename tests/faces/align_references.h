// The alignment references shared by test_align.cpp and test_align_parity.cpp: the MTCNN detection
// JSONs (data/reference/mtcnn/detections, and the dlib photos' in ../shared when present), their
// photos, and the seed-style aligned PNGs.
#pragma once
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "io/json.h"
#include "models/faces/face.h"

namespace gler::test {

struct AlignReference {
  std::string stem, photo, json, aligned_dir;
  std::string aligned_png(std::size_t i) const { return aligned_dir + "/" + stem + "_" + std::to_string(i) + ".png"; }
};

inline std::vector<AlignReference> align_references() {
  const std::string bundled = std::string(GLER_SOURCE_DIR) + "/data";
  const std::string shared = std::string(GLER_SHARED_DIR) + "/data";
  std::vector<AlignReference> out;
  const auto add = [&](const std::string& root, const std::string& stem) {
    const AlignReference r{stem, root + "/photos/" + stem + ".jpg", root + "/reference/mtcnn/detections/" + stem + ".json",
                           root + "/reference/mtcnn/aligned"};
    if (std::filesystem::exists(r.json) && std::filesystem::exists(r.photo)) out.push_back(r);
    else MESSAGE("skipped: " << (std::filesystem::exists(r.json) ? r.photo : r.json) << " not found");
  };
  for (const char* stem : {"ipazc_ivan", "ipazc_no-faces", "solvay_1927_gray"}) add(bundled, stem);
  for (const char* stem : {"dlib_2007_007763", "dlib_2008_002470", "dlib_2008_002506", "dlib_2008_004176"}) add(shared, stem);
  return out;
}

// The faces as the detector gave them: box (float64) and landmarks (float32 values written exactly).
inline std::vector<models::faces::DetectedFace> reference_faces(const json::Value& reference) {
  std::vector<models::faces::DetectedFace> faces;
  for (const json::Value& f : reference.at("faces").as_array()) {
    models::faces::DetectedFace face;
    for (int k = 0; k < 4; ++k) face.box[k] = f.at("box").as_array()[k].as_number();
    face.score = f.at("score").as_number();
    for (int k = 0; k < 5; ++k) {
      const json::Array& p = f.at("landmarks").as_array()[k].as_array();
      face.landmarks[k] = {static_cast<float>(p[0].as_number()), static_cast<float>(p[1].as_number())};
    }
    faces.push_back(face);
  }
  return faces;
}

// A 2x3 matrix written as [[a, b, c], [d, e, f]].
inline std::array<double, 6> reference_matrix(const json::Value& m) {
  std::array<double, 6> out{};
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 3; ++c) out[r * 3 + c] = m.as_array()[r].as_array()[c].as_number();
  return out;
}

}  // namespace gler::test
