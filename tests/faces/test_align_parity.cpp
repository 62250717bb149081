// Alignment against real OpenCV, Pillow and NumPy (python3-opencv 4.6): the SphereFace similarity
// against NumPy's SVD form of Umeyama, the warps against cv2.warpAffine of the same crops, and how the
// reference PNGs (made by a NumPy emulation of cv2, data/reference/mtcnn/README.md) compare with real cv2.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "io/image.h"
#include "io/json.h"
#include "models/faces/align.h"
#include "tests/faces/align_references.h"
#include "tests/support/torch_ref.h"

using namespace gler;
using models::faces::AlignMode;
using models::faces::DetectedFace;
using models::faces::Point2d;

namespace {

struct Difference {
  int max = 0;
  double mean = 0;
};

Difference difference(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b) {
  REQUIRE(a.size() == b.size());
  Difference d;
  double sum = 0;
  for (std::size_t k = 0; k < a.size(); ++k) {
    const int v = std::abs(int(a[k]) - int(b[k]));
    d.max = std::max(d.max, v);
    sum += v;
  }
  d.mean = sum / static_cast<double>(a.size());
  return d;
}

std::string key(std::string name, std::size_t index) { return name.append(std::to_string(index)); }

}  // namespace

TEST_CASE("similarity_transform equals NumPy's Umeyama") {
  std::mt19937 rng(5);
  std::normal_distribution<double> noise(0.0, 3.0);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const int sets = 60, points = 5;
  std::vector<double> from, to;
  for (int s = 0; s < sets; ++s) {
    const double angle = -3.1 + 6.2 * unit(rng), scale = 0.2 + 4 * unit(rng);
    const bool mirror = s % 5 == 0;  // mirrored targets: the fit must stay a rotation
    for (int p = 0; p < points; ++p) {
      const Point2d q = models::faces::kSphereFaceTemplate[p];
      const double x = 400 * unit(rng), y = 300 * unit(rng);
      from.insert(from.end(), {x, y});
      const double mx = mirror ? -x : x;
      to.insert(to.end(), {scale * (std::cos(angle) * mx - std::sin(angle) * y) + 50 + noise(rng) + q[0],
                           scale * (std::sin(angle) * mx + std::cos(angle) * y) - 20 + noise(rng) + q[1]});
    }
  }
  test::TorchRef ref;
  ref.put("from", Tensor::from_vector(from, Shape({sets, points, 2})));
  ref.put("to", Tensor::from_vector(to, Shape({sets, points, 2})));
  // Umeyama (1991), eq. 40-42, as scikit-image's _umeyama writes it.
  ref.run(R"PY(
def umeyama(src, dst):
    n, dim = src.shape
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_d, dst_d = src - src_mean, dst - dst_mean
    A = dst_d.T @ src_d / n
    d = np.ones((dim,))
    if np.linalg.det(A) < 0:
        d[dim - 1] = -1
    U, S, V = np.linalg.svd(A)
    T = U @ np.diag(d) @ V
    scale = 1.0 / src_d.var(axis=0).sum() * (S @ d)
    t = dst_mean - scale * (T @ src_mean)
    return np.hstack([scale * T, t[:, None]])
f, t = load('from').numpy(), load('to').numpy()
save('M', np.stack([umeyama(a, b) for a, b in zip(f, t)]))
)PY");
  const std::vector<double> expected = ref.get("M").to_vector<double>();
  double worst = 0;
  for (int s = 0; s < sets; ++s) {
    std::vector<Point2d> a, b;
    for (int p = 0; p < points; ++p) {
      a.push_back({from[(s * points + p) * 2], from[(s * points + p) * 2 + 1]});
      b.push_back({to[(s * points + p) * 2], to[(s * points + p) * 2 + 1]});
    }
    const io::Affine M = models::faces::similarity_transform(a, b);
    for (int k = 0; k < 6; ++k) worst = std::max(worst, std::abs(M[k] - expected[s * 6 + k]));
  }
  CHECK(worst < 1e-9);
  MESSAGE("similarity_transform vs NumPy Umeyama: max abs difference " << worst);
}

TEST_CASE("alignment warps equal cv2.warpAffine; the reference PNGs compared with real cv2") {
  const std::vector<test::AlignReference> references = test::align_references();
  test::TorchRef ref;
  // For each face, Python crops with Pillow and warps with cv2 using the reference's M_crop (seed
  // mode), and warps the whole photo with our SphereFace matrix.
  std::ostringstream cases;
  std::vector<std::vector<models::faces::AlignedFace>> sphereface(references.size());
  for (std::size_t r = 0; r < references.size(); ++r) {
    const json::Value reference = json::parse_file(references[r].json);
    const io::Image rgb = io::to_rgb(io::read_image(references[r].photo));
    sphereface[r] = models::faces::align_faces(rgb, test::reference_faces(reference), AlignMode::sphereface);
    std::vector<double> matrices;
    for (const auto& a : sphereface[r]) matrices.insert(matrices.end(), a.to_aligned.begin(), a.to_aligned.end());
    ref.put(key("sphereface_M", r), Tensor::from_vector(matrices, Shape({static_cast<std::int64_t>(sphereface[r].size()), 2, 3})));
    cases << "('" << references[r].photo << "', '" << references[r].json << "'),\n";
  }
  ref.run("cases = [\n" + cases.str() + "]\n" + R"PY(
import json, cv2
from PIL import Image
for r, (photo, ref_json) in enumerate(cases):
    im = Image.open(photo).convert('RGB')
    rgb = np.asarray(im)
    faces = json.load(open(ref_json))['faces']
    for i, f in enumerate(faces):
        a = f['align']
        crop = np.asarray(im.crop(tuple(a['crop_box_requested'])))
        save(f'seed{r}_{i}', cv2.warpAffine(crop, np.array(a['M_crop']), (112, 96), flags=cv2.INTER_CUBIC))
    for i, M in enumerate(load(f'sphereface_M{r}').numpy()):
        save(f'sphereface{r}_{i}', cv2.warpAffine(rgb, M, (96, 112), flags=cv2.INTER_CUBIC))
)PY");
  int faces_seen = 0;
  Difference png_worst;
  double png_total = 0;
  int png_faces_differing = 0;
  for (std::size_t r = 0; r < references.size(); ++r) {
    const test::AlignReference& reference = references[r];
    CAPTURE(reference.json);
    const json::Value j = json::parse_file(reference.json);
    const io::Image rgb = io::to_rgb(io::read_image(reference.photo));
    const json::Array& faces = j.at("faces").as_array();
    for (std::size_t i = 0; i < faces.size(); ++i) {
      CAPTURE(i);
      const json::Value& a = faces[i].at("align");
      const std::string name = "seed" + std::to_string(r) + "_" + std::to_string(i);
      const std::vector<std::uint8_t> cv2_seed = ref.get(name).to_vector<std::uint8_t>();
      // Our Pillow crop and our warp with the seed's own matrix: identical to Pillow + cv2.
      const json::Array& box = a.at("crop_box_requested").as_array();
      const io::Image crop = io::crop_pillow(rgb, box[0].as_number(), box[1].as_number(), box[2].as_number(), box[3].as_number());
      const io::Image ours = io::warp_affine(crop, test::reference_matrix(a.at("M_crop")), 112, 96);
      CHECK(difference(ours.pixels, cv2_seed).max == 0);
      // The reference PNG against real cv2 on the same crop and matrix.
      const Difference png = difference(io::read_image(reference.aligned_png(i)).pixels, cv2_seed);
      CHECK(png.max <= 2);
      png_worst.max = std::max(png_worst.max, png.max);
      png_worst.mean = std::max(png_worst.mean, png.mean);
      png_total += png.mean;
      png_faces_differing += png.max > 0;
      // SphereFace: our warp of the whole photo with our matrix, against cv2 with that matrix.
      const std::vector<std::uint8_t> cv2_sphere = ref.get("sphereface" + std::to_string(r) + "_" + std::to_string(i)).to_vector<std::uint8_t>();
      CHECK(difference(sphereface[r][i].image.pixels, cv2_sphere).max == 0);
      ++faces_seen;
    }
  }
  MESSAGE(faces_seen << " faces; reference PNGs vs real cv2.warpAffine (same crop, same M_crop): " << png_faces_differing
                     << " faces differ, max abs diff " << png_worst.max << ", worst per-face mean " << png_worst.mean
                     << ", mean over faces " << (faces_seen ? png_total / faces_seen : 0.0));
}
