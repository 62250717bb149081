// Face alignment: the seed's eye-based rotation into 112 wide x 96 high crops (SEED_SPEC §3.7-3.8,
// quirks included), or the standard SphereFace 5-point similarity onto its 96 wide x 112 high template.
#pragma once
#include <array>
#include <string>
#include <vector>

#include "io/image.h"
#include "io/warp_affine.h"
#include "models/faces/face.h"

namespace gler::models::faces {

enum class AlignMode { seed, sphereface };
AlignMode parse_align_mode(const std::string& name);  // "seed" | "sphereface"; throws otherwise
const char* align_mode_name(AlignMode mode);

struct AlignedFace {
  io::Image image;        // seed: 112x96, sphereface: 96x112, RGB
  io::Affine to_aligned;  // full-image coordinates -> aligned crop coordinates
};

// One face's steps of the seed's alignment (SEED_SPEC §3.7-3.8), in the seed's precision; the reference
// JSON records each of them (faces[i].align) so they can be checked one by one.
struct SeedAlignment {
  std::array<double, 4> crop_box{};        // the float box given to Pillow's crop
  std::array<long long, 4> crop_box_int{};  // ... as Pillow rounds it (right/bottom exclusive)
  bool same_height_recrop = false;         // the quirk: re-cropped from (x1 - 1, y1 - 1)
  std::array<Point, 5> landmarks{};        // in crop coordinates, float32 like the seed's arrays
  Point eyes_center;
  float angle_deg = 0;  // numpy float32 degrees(arctan2(dY, dX)), see align.cpp
  double scale = 0;
  io::Affine crop_to_aligned{};  // the seed's M
};

// The steps for the faces of one image, in order. Needs no pixels: a crop's height is the rounded box's.
std::vector<SeedAlignment> seed_alignment_steps(const std::vector<DetectedFace>& faces);

// getRotationMatrix2D(eyes_center, angle, scale), shifted so the eye centre lands on (56, 28.8).
io::Affine seed_eye_matrix(Point eyes_center, float angle_deg, double scale);

using Point2d = std::array<double, 2>;

// SphereFace's five landmark positions (eyes, nose, mouth corners) in its 96 wide x 112 high crop.
extern const std::array<Point2d, 5> kSphereFaceTemplate;

// The least-squares similarity (rotation, uniform scale, translation; never a reflection) mapping
// `from` onto `to` (Umeyama 1991). At least two distinct points.
io::Affine similarity_transform(const std::vector<Point2d>& from, const std::vector<Point2d>& to);

// Aligns the faces of one image, in order (the seed's crop depends on the previous face).
// `rgb` has 3 channels. Seed mode reproduces the seed's AlignedCroppedImages, including its skip: no
// faces at all when any crop-relative landmark coordinate is exactly 0.
std::vector<AlignedFace> align_faces(const io::Image& rgb, const std::vector<DetectedFace>& faces, AlignMode mode);

}  // namespace gler::models::faces
