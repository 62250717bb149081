// The seed's alignment is two notebooks run one after the other: Face_Cropper_* crops each face from
// the photo and shifts its landmarks, AlignedFaces_Extractor_* rotates each crop so the eyes are level.
// Both steps are kept here with the seed's numeric types, so that the matrices come out bit for bit.
#include "models/faces/align.h"

#include <cmath>
#include <numbers>

#include "core/error.h"

namespace gler::models::faces {

namespace {

constexpr int kSeedWidth = 112, kSeedHeight = 96;
constexpr int kSphereFaceWidth = 96, kSphereFaceHeight = 112;

// Python's round(), as Pillow applies it to crop coordinates: half to even.
long long pillow_round(double v) { return static_cast<long long>(std::nearbyint(v)); }

// numpy's float32 degrees(): x * (180.0f / NPY_PIf).
constexpr float kDegreesPerRadian = 180.0f / static_cast<float>(std::numbers::pi);

// The seed computes np.arctan2 on two float32 scalars. numpy's float32 arctan2 is not correctly
// rounded and depends on the CPU (SVML on AVX-512, libm's atan2f elsewhere), so no single choice
// reproduces every machine; the correctly rounded value is within 2 float32 ulp of the reference JSON.
float float32_atan2(float y, float x) { return static_cast<float>(std::atan2(static_cast<double>(y), static_cast<double>(x))); }

std::vector<AlignedFace> align_seed(const io::Image& rgb, const std::vector<DetectedFace>& faces) {
  const std::vector<SeedAlignment> steps = seed_alignment_steps(faces);
  // The seed skips an image when `landmarks.all() == [0]`, meant as "all landmarks are zero". all()
  // is False as soon as one value is 0.0, and False == [0] is a truthy array, so a single crop-relative
  // coordinate of exactly 0 skips every face of the image.
  for (const SeedAlignment& s : steps)
    for (const Point& p : s.landmarks)
      if (p.x == 0 || p.y == 0) return {};
  std::vector<AlignedFace> out;
  out.reserve(steps.size());
  for (const SeedAlignment& s : steps) {
    const io::Image crop = io::crop_pillow(rgb, s.crop_box[0], s.crop_box[1], s.crop_box[2], s.crop_box[3]);
    const io::Affine& M = s.crop_to_aligned;
    // Full image -> crop is a shift by the integer crop origin (the landmarks were shifted by the
    // unrounded one, a seed quirk of up to half a pixel that this keeps).
    const double x0 = static_cast<double>(s.crop_box_int[0]), y0 = static_cast<double>(s.crop_box_int[1]);
    const io::Affine to_aligned{M[0], M[1], M[0] * -x0 + M[1] * -y0 + M[2], M[3], M[4], M[3] * -x0 + M[4] * -y0 + M[5]};
    out.push_back({io::warp_affine(crop, M, kSeedWidth, kSeedHeight, io::WarpInterpolation::cubic), to_aligned});
  }
  return out;
}

std::vector<AlignedFace> align_sphereface(const io::Image& rgb, const std::vector<DetectedFace>& faces) {
  const std::vector<Point2d> target(kSphereFaceTemplate.begin(), kSphereFaceTemplate.end());
  std::vector<AlignedFace> out;
  out.reserve(faces.size());
  for (const DetectedFace& face : faces) {
    std::vector<Point2d> landmarks;
    for (const Point& p : face.landmarks) landmarks.push_back({p.x, p.y});
    const io::Affine M = similarity_transform(landmarks, target);
    out.push_back({io::warp_affine(rgb, M, kSphereFaceWidth, kSphereFaceHeight, io::WarpInterpolation::cubic), M});
  }
  return out;
}

}  // namespace

AlignMode parse_align_mode(const std::string& name) {
  if (name == "seed") return AlignMode::seed;
  if (name == "sphereface") return AlignMode::sphereface;
  GLER_FAIL("unknown alignment '" << name << "': expected seed or sphereface");
}

const char* align_mode_name(AlignMode mode) { return mode == AlignMode::seed ? "seed" : "sphereface"; }

const std::array<Point2d, 5> kSphereFaceTemplate{{
    {30.2946, 51.6963}, {65.5318, 51.5014}, {48.0252, 71.7366}, {33.5493, 92.3655}, {62.7299, 92.2041}}};

io::Affine seed_eye_matrix(Point eyes_center, float angle_deg, double scale) {
  io::Affine M = io::rotation_matrix_2d(eyes_center.x, eyes_center.y, angle_deg, scale);
  // tX = desiredFaceWidth * 0.5, tY = desiredFaceHeight * desiredLeftEye[1] (96 * 0.3 is 28.799999999999997).
  M[2] += kSeedWidth * 0.5 - static_cast<double>(eyes_center.x);
  M[5] += kSeedHeight * 0.3 - static_cast<double>(eyes_center.y);
  return M;
}

std::vector<SeedAlignment> seed_alignment_steps(const std::vector<DetectedFace>& faces) {
  std::vector<SeedAlignment> steps;
  steps.reserve(faces.size());
  for (const DetectedFace& face : faces) {
    const auto& b = face.box;
    SeedAlignment s;
    s.crop_box = b;
    // `landmark[k] -= x`: a float32 element minus the float64 box corner, stored back as float32.
    for (int k = 0; k < 5; ++k)
      s.landmarks[k] = {static_cast<float>(static_cast<double>(face.landmarks[k].x) - b[0]),
                        static_cast<float>(static_cast<double>(face.landmarks[k].y) - b[1])};
    const auto height = [](const std::array<double, 4>& box) { return pillow_round(box[3]) - pillow_round(box[1]); };
    // The hack that keeps np.asarray(face_list) from stacking equal-height crops: compare with the
    // previous face's crop as finally taken, and if equal re-crop one pixel up and left.
    if (!steps.empty() && height(s.crop_box) == height(steps.back().crop_box)) {
      s.same_height_recrop = true;
      s.crop_box = {b[0] - 1, b[1] - 1, b[2], b[3]};
      for (Point& p : s.landmarks) p = {p.x + 1.0f, p.y + 1.0f};  // `landmark += 1` on the float32 array
    }
    for (int k = 0; k < 4; ++k) s.crop_box_int[k] = pillow_round(s.crop_box[k]);

    const Point& left = s.landmarks[0];
    const Point& right = s.landmarks[1];
    const float dy = right.y - left.y, dx = right.x - left.x;  // float32 scalars
    s.angle_deg = float32_atan2(dy, dx) * kDegreesPerRadian;
    // `dX ** 2` of a float32 scalar and a Python int is float64 in numpy 1.x, so the distance is too.
    const double dist = std::sqrt(static_cast<double>(dx) * dx + static_cast<double>(dy) * dy);
    const double desired_dist = ((1.0 - 0.30) - 0.30) * kSeedWidth;
    s.scale = desired_dist / dist;
    // (a + b) / 2 of float32 values: the halving is exact, whatever type numpy gives it.
    s.eyes_center = {(left.x + right.x) / 2, (left.y + right.y) / 2};
    s.crop_to_aligned = seed_eye_matrix(s.eyes_center, s.angle_deg, s.scale);
    steps.push_back(s);
  }
  return steps;
}

io::Affine similarity_transform(const std::vector<Point2d>& from, const std::vector<Point2d>& to) {
  GLER_CHECK(from.size() == to.size() && from.size() >= 2,
             "similarity_transform: expected two equal-sized sets of at least 2 points, got " << from.size() << " and "
                                                                                               << to.size());
  const double n = static_cast<double>(from.size());
  double fx = 0, fy = 0, tx = 0, ty = 0;
  for (std::size_t i = 0; i < from.size(); ++i) {
    fx += from[i][0], fy += from[i][1];
    tx += to[i][0], ty += to[i][1];
  }
  fx /= n, fy /= n, tx /= n, ty /= n;
  // In 2-D, Umeyama's SVD solution restricted to proper rotations has a closed form: with centred
  // points, s·cos θ = Σ(p·q) / Σ|p|² and s·sin θ = Σ(p × q) / Σ|p|².
  double dot = 0, cross = 0, norm = 0;
  for (std::size_t i = 0; i < from.size(); ++i) {
    const double px = from[i][0] - fx, py = from[i][1] - fy;
    const double qx = to[i][0] - tx, qy = to[i][1] - ty;
    dot += px * qx + py * qy;
    cross += px * qy - py * qx;
    norm += px * px + py * py;
  }
  GLER_CHECK(norm > 0, "similarity_transform: all source points coincide");
  const double a = dot / norm, b = cross / norm;
  return {a, -b, tx - (a * fx - b * fy), b, a, ty - (b * fx + a * fy)};
}

std::vector<AlignedFace> align_faces(const io::Image& rgb, const std::vector<DetectedFace>& faces, AlignMode mode) {
  GLER_CHECK(rgb.channels == 3, "align_faces expects an RGB image, got " << rgb.channels << " channels");
  return mode == AlignMode::seed ? align_seed(rgb, faces) : align_sphereface(rgb, faces);
}

}  // namespace gler::models::faces
