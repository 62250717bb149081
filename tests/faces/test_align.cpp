// Face alignment against the reference outputs of the seed's pipeline (data/reference/mtcnn: every
// step recorded in faces[i].align, and the aligned PNGs), and the quirks and the SphereFace
// similarity on synthetic inputs.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "io/image.h"
#include "io/json.h"
#include "models/faces/align.h"
#include "tests/faces/align_references.h"
#include "tests/support/tensors.h"

using namespace gler;
using models::faces::AlignMode;
using models::faces::DetectedFace;
using models::faces::Point2d;
using models::faces::SeedAlignment;

namespace {

// Distance in float32 steps (both values finite).
long long float_ulps(float a, float b) {
  const auto ordered = [](float v) {
    const auto i = static_cast<long long>(std::bit_cast<std::int32_t>(v));
    return i < 0 ? -(i & 0x7fffffff) : i;
  };
  return std::llabs(ordered(a) - ordered(b));
}

double max_abs(const io::Affine& a, const io::Affine& b) {
  double m = 0;
  for (int k = 0; k < 6; ++k) m = std::max(m, std::abs(a[k] - b[k]));
  return m;
}

io::Affine apply_then(const io::Affine& first, const io::Affine& second) {
  const io::Affine& A = second;
  const io::Affine& B = first;
  return {A[0] * B[0] + A[1] * B[3], A[0] * B[1] + A[1] * B[4], A[0] * B[2] + A[1] * B[5] + A[2],
          A[3] * B[0] + A[4] * B[3], A[3] * B[1] + A[4] * B[4], A[3] * B[2] + A[4] * B[5] + A[5]};
}

Point2d apply(const io::Affine& M, Point2d p) { return {M[0] * p[0] + M[1] * p[1] + M[2], M[3] * p[0] + M[4] * p[1] + M[5]}; }

}  // namespace

TEST_CASE("seed alignment steps reproduce the reference JSON") {
  long long worst_angle_ulps = 0;
  int faces_seen = 0, angles_exact = 0, recrops = 0;
  double worst_matrix = 0;
  for (const test::AlignReference& r : test::align_references()) {
    CAPTURE(r.json);
    const json::Value reference = json::parse_file(r.json);
    const std::vector<DetectedFace> faces = test::reference_faces(reference);
    const std::vector<SeedAlignment> steps = models::faces::seed_alignment_steps(faces);
    REQUIRE(steps.size() == faces.size());
    if (const json::Value* skipped = reference.find("alignment_skipped_by_seed_quirk")) CHECK(skipped->as_bool() == false);
    for (std::size_t i = 0; i < faces.size(); ++i) {
      CAPTURE(i);
      const json::Value& a = reference.at("faces").as_array()[i].at("align");
      const SeedAlignment& s = steps[i];
      for (int k = 0; k < 4; ++k) {
        CHECK(s.crop_box[k] == a.at("crop_box_requested").as_array()[k].as_number());
        CHECK(s.crop_box_int[k] == a.at("crop_box_int").as_array()[k].as_int());
      }
      CHECK(s.crop_box_int[3] - s.crop_box_int[1] == a.at("crop_size_hw").as_array()[0].as_int());
      CHECK(s.crop_box_int[2] - s.crop_box_int[0] == a.at("crop_size_hw").as_array()[1].as_int());
      CHECK(s.same_height_recrop == a.at("same_height_recrop_hack").as_bool());
      recrops += s.same_height_recrop;
      for (int k = 0; k < 5; ++k) {
        const json::Array& p = a.at("landmarks_in_crop").as_array()[k].as_array();
        CHECK(s.landmarks[k].x == static_cast<float>(p[0].as_number()));
        CHECK(s.landmarks[k].y == static_cast<float>(p[1].as_number()));
      }
      CHECK(s.eyes_center.x == a.at("eyes_center_in_crop").as_array()[0].as_number());
      CHECK(s.eyes_center.y == a.at("eyes_center_in_crop").as_array()[1].as_number());
      CHECK(s.scale == a.at("scale").as_number());
      // The reference's float32 arctan2 is numpy's SVML one (align.cpp): a few float32 steps apart.
      const float angle = static_cast<float>(a.at("angle_deg").as_number());
      const long long ulps = float_ulps(s.angle_deg, angle);
      CHECK(ulps <= 2);
      worst_angle_ulps = std::max(worst_angle_ulps, ulps);
      angles_exact += ulps == 0;
      // Given the reference's own angle the matrix is bit for bit the seed's ...
      const io::Affine M_crop = test::reference_matrix(a.at("M_crop"));
      CHECK(models::faces::seed_eye_matrix(s.eyes_center, angle, s.scale) == M_crop);
      // ... and with ours, off by what 2 float32 steps of the angle move it.
      const double off = max_abs(s.crop_to_aligned, M_crop);
      if (ulps == 0) CHECK(off == 0);
      CHECK(off < 1e-5);
      worst_matrix = std::max(worst_matrix, off);
      ++faces_seen;
    }
  }
  MESSAGE(faces_seen << " faces (" << recrops << " re-cropped): angle exact for " << angles_exact
                     << ", worst " << worst_angle_ulps << " float32 ulp; worst |M - M_crop| " << worst_matrix);
}

TEST_CASE("seed-aligned crops match the reference PNGs") {
  int faces_seen = 0, worst = 0;
  double worst_mean = 0, total_abs = 0, total_values = 0, worst_to_image = 0;
  for (const test::AlignReference& r : test::align_references()) {
    CAPTURE(r.json);
    const json::Value reference = json::parse_file(r.json);
    const std::vector<DetectedFace> faces = test::reference_faces(reference);
    const io::Image rgb = io::to_rgb(io::read_image(r.photo));
    const std::vector<models::faces::AlignedFace> aligned = models::faces::align_faces(rgb, faces, AlignMode::seed);
    const std::vector<SeedAlignment> steps = models::faces::seed_alignment_steps(faces);
    REQUIRE(aligned.size() == faces.size());
    for (std::size_t i = 0; i < faces.size(); ++i) {
      CAPTURE(i);
      const io::Image expected = io::read_image(r.aligned_png(i));
      const io::Image& ours = aligned[i].image;
      REQUIRE(ours.width == 112);
      REQUIRE(ours.height == 96);
      REQUIRE(ours.channels == 3);
      REQUIRE(expected.pixels.size() == ours.pixels.size());
      int max_diff = 0;
      double sum = 0;
      for (std::size_t k = 0; k < ours.pixels.size(); ++k) {
        const int d = std::abs(int(ours.pixels[k]) - int(expected.pixels[k]));
        max_diff = std::max(max_diff, d);
        sum += d;
      }
      const double mean = sum / static_cast<double>(ours.pixels.size());
      CHECK(max_diff <= 2);
      CHECK(mean < 0.5);
      worst = std::max(worst, max_diff);
      worst_mean = std::max(worst_mean, mean);
      total_abs += sum;
      total_values += static_cast<double>(ours.pixels.size());
      // M_image is M_crop composed with the integer crop origin; ours differs by what our M_crop's
      // difference (the arctan2 ulps) becomes at that origin.
      const json::Value& a = reference.at("faces").as_array()[i].at("align");
      const SeedAlignment& s = steps[i];
      const double origin = 1 + std::abs(double(s.crop_box_int[0])) + std::abs(double(s.crop_box_int[1]));
      const double bound = max_abs(s.crop_to_aligned, test::reference_matrix(a.at("M_crop"))) * origin + 1e-12 * origin;
      const double to_image = max_abs(aligned[i].to_aligned, test::reference_matrix(a.at("M_image")));
      CHECK(to_image <= bound);
      worst_to_image = std::max(worst_to_image, to_image);
      ++faces_seen;
    }
  }
  MESSAGE(faces_seen << " aligned faces vs reference PNGs: max abs diff " << worst << ", worst per-face mean " << worst_mean
                     << ", overall mean " << (total_values > 0 ? total_abs / total_values : 0.0)
                     << "; worst |to_aligned - M_image| " << worst_to_image);
}

TEST_CASE("seed alignment re-crops a face whose crop height equals the previous face's") {
  // Three boxes 40 px tall after Pillow's rounding: the second is re-cropped (41 px), so the third,
  // compared with the second as finally cropped, is not.
  std::vector<DetectedFace> faces(3);
  for (int i = 0; i < 3; ++i) {
    faces[i].box = {10.0 + 50 * i, 20.25, 45.0 + 50 * i, 60.25};
    for (int k = 0; k < 5; ++k) faces[i].landmarks[k] = {static_cast<float>(20.3 + 50 * i + 3 * k), 35.7f + k};
  }
  const std::vector<SeedAlignment> steps = models::faces::seed_alignment_steps(faces);
  CHECK(steps[0].same_height_recrop == false);
  CHECK(steps[1].same_height_recrop == true);
  CHECK(steps[2].same_height_recrop == false);
  CHECK(steps[1].crop_box_int == std::array<long long, 4>{59, 19, 95, 60});
  // Shifted by the unrounded corner, rounded to float32, then +1 in float32.
  CHECK(steps[1].landmarks[0].x == static_cast<float>(static_cast<double>(faces[1].landmarks[0].x) - 60.0) + 1.0f);
  CHECK(steps[1].landmarks[0].y == static_cast<float>(static_cast<double>(35.7f) - 20.25) + 1.0f);

  io::Image rgb(200, 100, 3);
  for (std::size_t k = 0; k < rgb.pixels.size(); ++k) rgb.pixels[k] = static_cast<std::uint8_t>(k % 251);
  const auto aligned = models::faces::align_faces(rgb, faces, AlignMode::seed);
  REQUIRE(aligned.size() == 3);
  // to_aligned sends the landmarks, in image coordinates, where M_crop sends them in crop coordinates
  // (up to the unrounded-vs-rounded crop origin the seed mixes).
  for (int i = 0; i < 3; ++i) {
    const Point2d eye{faces[i].landmarks[0].x, faces[i].landmarks[0].y};
    const Point2d crop_eye{steps[i].landmarks[0].x, steps[i].landmarks[0].y};
    const Point2d via_image = apply(aligned[i].to_aligned, {eye[0] - (steps[i].crop_box[0] - steps[i].crop_box_int[0]),
                                                            eye[1] - (steps[i].crop_box[1] - steps[i].crop_box_int[1])});
    const Point2d via_crop = apply(steps[i].crop_to_aligned, crop_eye);
    CHECK(via_image[0] == doctest::Approx(via_crop[0]).epsilon(1e-5));
    CHECK(via_image[1] == doctest::Approx(via_crop[1]).epsilon(1e-5));
    // and the left eye lands at (33.6, 28.8)
    CHECK(via_crop[0] == doctest::Approx(33.6).epsilon(1e-5));
    CHECK(via_crop[1] == doctest::Approx(28.8).epsilon(1e-5));
  }
}

TEST_CASE("seed alignment skips the whole image when a crop-relative landmark is exactly 0") {
  io::Image rgb(120, 100, 3);
  std::vector<DetectedFace> faces(2);
  faces[0].box = {10.0, 10.0, 50.0, 55.0};
  faces[1].box = {60.0, 10.5, 100.0, 60.0};
  for (int i = 0; i < 2; ++i)
    for (int k = 0; k < 5; ++k) faces[i].landmarks[k] = {static_cast<float>(faces[i].box[0] + 8.5 + 5 * k), 30.25f + k};
  CHECK(models::faces::align_faces(rgb, faces, AlignMode::seed).size() == 2);
  faces[1].landmarks[3].x = 60.0f;  // 60.0 - x1 == 0 for the second face only
  CHECK(models::faces::align_faces(rgb, faces, AlignMode::seed).empty());
  CHECK(models::faces::align_faces(rgb, faces, AlignMode::sphereface).size() == 2);
}

TEST_CASE("similarity_transform recovers an exact similarity of the SphereFace template") {
  const double angle = 0.3, scale = 2.7;
  const io::Affine S{scale * std::cos(angle), -scale * std::sin(angle), 140.5, scale * std::sin(angle), scale * std::cos(angle), 63.25};
  std::vector<Point2d> image_points;
  const std::vector<Point2d> templ(models::faces::kSphereFaceTemplate.begin(), models::faces::kSphereFaceTemplate.end());
  for (const Point2d& p : templ) image_points.push_back(apply(S, p));
  const io::Affine forward = models::faces::similarity_transform(templ, image_points);
  CHECK(max_abs(forward, S) < 1e-9);
  const io::Affine back = models::faces::similarity_transform(image_points, templ);
  CHECK(max_abs(apply_then(S, back), io::Affine{1, 0, 0, 0, 1, 0}) < 1e-9);
  // Mirrored points: the fit is still a rotation (det > 0), never a reflection.
  std::vector<Point2d> mirrored;
  for (const Point2d& p : templ) mirrored.push_back({-p[0], p[1]});
  const io::Affine m = models::faces::similarity_transform(templ, mirrored);
  CHECK(m[0] * m[4] - m[1] * m[3] >= 0);
  CHECK(test::error_message([&] { models::faces::similarity_transform({{1, 1}, {1, 1}}, {{0, 0}, {2, 2}}); }).find("coincide") != std::string::npos);
}

TEST_CASE("sphereface alignment maps the landmarks onto the template, 96 wide x 112 high") {
  io::Image rgb(300, 200, 3);
  for (std::size_t k = 0; k < rgb.pixels.size(); ++k) rgb.pixels[k] = static_cast<std::uint8_t>((k * 7) % 256);
  DetectedFace face;
  const io::Affine S{1.9, -0.4, 110.0, 0.4, 1.9, 20.0};
  for (int k = 0; k < 5; ++k) {
    const Point2d p = apply(S, models::faces::kSphereFaceTemplate[k]);
    face.landmarks[k] = {static_cast<float>(p[0]), static_cast<float>(p[1])};
  }
  const auto aligned = models::faces::align_faces(rgb, {face}, AlignMode::sphereface);
  REQUIRE(aligned.size() == 1);
  CHECK(aligned[0].image.width == 96);
  CHECK(aligned[0].image.height == 112);
  CHECK(aligned[0].image.channels == 3);
  for (int k = 0; k < 5; ++k) {
    const Point2d q = apply(aligned[0].to_aligned, {face.landmarks[k].x, face.landmarks[k].y});
    CHECK(q[0] == doctest::Approx(models::faces::kSphereFaceTemplate[k][0]).epsilon(1e-5));
    CHECK(q[1] == doctest::Approx(models::faces::kSphereFaceTemplate[k][1]).epsilon(1e-5));
  }
}

TEST_CASE("align modes parse and print") {
  CHECK(models::faces::parse_align_mode("seed") == AlignMode::seed);
  CHECK(models::faces::parse_align_mode("sphereface") == AlignMode::sphereface);
  CHECK(std::string(models::faces::align_mode_name(AlignMode::sphereface)) == "sphereface");
  CHECK(std::string(models::faces::align_mode_name(AlignMode::seed)) == "seed");
  CHECK(test::error_message([] { models::faces::parse_align_mode("dlib"); }).find("dlib") != std::string::npos);
  CHECK(test::error_message([] { models::faces::align_faces(io::Image(4, 4, 1), {}, AlignMode::seed); }).find("RGB") != std::string::npos);
}
