// The training losses the configs name, on a model's output: face_ce is the mean cross-entropy of
// the real faces' logits against their image's label (or every slot, as the seed's TrainDataset Local); asoftmax is
// A-Softmax's loss on those same faces, and advances its λ counter once per call; ce is the
// cross-entropy of the image logits.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "core/ops.h"
#include "layers/angle_softmax.h"
#include "layers/cross_entropy.h"
#include "train/trainer/losses.h"

using namespace gler;

namespace {

// [2, 3, 3] face logits: image 0 has 2 real faces, image 1 has 1.
const std::vector<double> kFaces = {0.5, -1, 2,   1, 1, 0,    7, 7, 7,  //
                                    -2, 0.25, 1,  3, 3, 3,    4, 4, 4};
const std::vector<std::int64_t> kCounts = {2, 1};

double face_ce(const std::vector<std::size_t>& slots, const std::vector<int>& labels) {
  double sum = 0;
  for (std::size_t k = 0; k < slots.size(); ++k) {
    const double* z = &kFaces[3 * slots[k]];
    const double lse = std::log(std::exp(z[0]) + std::exp(z[1]) + std::exp(z[2]));
    sum += lse - z[labels[k]];
  }
  return sum / static_cast<double>(slots.size());
}

}  // namespace

TEST_CASE("face_ce: the real faces, or every slot (the seed's TrainDataset Local), each with its image's label") {
  models::GlerOutput out;
  out.face_logits = Tensor::from_vector(kFaces, {2, 3, 3});
  out.logits = Tensor::from_vector(std::vector<double>{0, 0, 0, 0, 0, 0}, {2, 3});
  const Tensor labels = Tensor::from_vector(std::vector<std::int64_t>{2, 0}, {2});
  layers::AngleLoss unused;
  const double corrected = train::training_loss(train::LossKind::face_ce, out, labels, kCounts, false, unused).item();
  CHECK(corrected == doctest::Approx(face_ce({0, 1, 3}, {2, 2, 0})).epsilon(1e-12));
  const double seed = train::training_loss(train::LossKind::face_ce, out, labels, kCounts, true, unused).item();
  CHECK(seed == doctest::Approx(face_ce({0, 1, 2, 3, 4, 5}, {2, 2, 2, 0, 0, 0})).epsilon(1e-12));
  const double image = train::training_loss(train::LossKind::ce, out, labels, kCounts, false, unused).item();
  CHECK(image == doctest::Approx(std::log(3.0)).epsilon(1e-12));
  // No real face in the batch: zero.
  CHECK(train::training_loss(train::LossKind::face_ce, out, labels, {0, 0}, false, unused).item() == 0);
}

TEST_CASE("asoftmax: A-Softmax's loss on the real faces, its lambda advancing once per batch") {
  std::vector<double> phi(kFaces.size());
  for (std::size_t i = 0; i < phi.size(); ++i) phi[i] = kFaces[i] - 0.5 - 0.1 * static_cast<double>(i);
  models::GlerOutput out;
  out.face_logits = Tensor::from_vector(kFaces, {2, 3, 3});
  out.face_phi = Tensor::from_vector(phi, {2, 3, 3});
  const Tensor labels = Tensor::from_vector(std::vector<std::int64_t>{2, 0}, {2});
  // The same loss on the three real faces, gathered by hand.
  const auto rows = [](const std::vector<double>& v, const std::vector<std::size_t>& slots) {
    std::vector<double> out;
    for (std::size_t s : slots) out.insert(out.end(), v.begin() + 3 * s, v.begin() + 3 * s + 3);
    return Tensor::from_vector(out, {static_cast<std::int64_t>(slots.size()), 3});
  };
  layers::AngleLoss reference, trained;
  reference.set_iteration(100000);  // λ at its floor, 5: the margin weighs 1/6
  trained.set_iteration(100000);
  const double expected =
      reference.forward({rows(kFaces, {0, 1, 3}), rows(phi, {0, 1, 3})}, Tensor::from_vector(std::vector<std::int64_t>{2, 2, 0}, {3})).item();
  const double got = train::training_loss(train::LossKind::asoftmax, out, labels, kCounts, false, trained).item();
  CHECK(got == doctest::Approx(expected).epsilon(1e-12));
  CHECK(trained.iteration() == 100001);
  // The margin matters: with ψ = cos θ it is plain cross-entropy over the faces, and that differs.
  CHECK(std::abs(got - face_ce({0, 1, 3}, {2, 2, 0})) > 1e-3);
}

TEST_CASE("the seed's Local metric counts every slot (TrainDataset) or the real faces (FullDataset)") {
  // Arg-max per slot: image 0: 2, 0, 0 (ties: the first); image 1: 2, 0, 0.
  const Tensor faces = Tensor::from_vector(kFaces, {2, 3, 3});
  const Tensor labels = Tensor::from_vector(std::vector<std::int64_t>{2, 0}, {2});
  const train::FaceHits all = train::seed_face_hits(faces, labels, kCounts, true);
  CHECK(all.correct == 3);  // image 0 slot 0; image 1 slots 1 and 2 (padding, counted as the seed did)
  CHECK(all.counted == 6);
  const train::FaceHits real = train::seed_face_hits(faces, labels, kCounts, false);
  CHECK(real.correct == 1);  // image 0 slot 0 (slot 1 says 0); image 1 slot 0 says 2
  CHECK(real.counted == 3);
}
