#include "train/trainer/losses.h"

#include "core/error.h"
#include "core/ops.h"
#include "layers/cross_entropy.h"
#include "models/gler/face_slots.h"

namespace gler::train {

namespace {

// The A-Softmax loss over the faces face_ce counts: the real ones, or every slot.
Tensor angle_loss(const models::GlerOutput& output, const Tensor& labels, const std::vector<std::int64_t>& face_counts,
                  bool every_slot, layers::AngleLoss& angle) {
  const Tensor &cos = output.face_logits, &phi = output.face_phi;
  GLER_CHECK(cos.defined() && phi.defined() && cos.ndim() == 3, "asoftmax needs a local model with an A-Softmax fc6");
  const std::int64_t batch = cos.size(0), slots = cos.size(1), classes = cos.size(2);
  const std::vector<std::int64_t> label = labels.to(Device::CPU).to_vector<std::int64_t>();
  std::vector<std::int64_t> counts = face_counts;
  if (every_slot) counts.assign(static_cast<std::size_t>(batch), slots);
  std::vector<std::int64_t> rows;
  for (std::int64_t b = 0; b < batch; ++b)
    rows.insert(rows.end(), static_cast<std::size_t>(counts[static_cast<std::size_t>(b)]), label[static_cast<std::size_t>(b)]);
  if (rows.empty()) return ops::scale(ops::sum_all(cos), 0.0);
  const auto n = static_cast<std::int64_t>(rows.size());
  // The selected slots in image order, then models::real_faces_and_blank's zero row, dropped.
  const auto real = [&](const Tensor& x) { return ops::narrow(models::real_faces_and_blank(x, counts), 0, 0, n); };
  const Tensor targets = Tensor::from_vector(rows, {n}).to(cos.device());
  GLER_CHECK(classes == 3, "asoftmax: 3 classes expected, got " << classes);
  return angle.forward({real(cos), real(phi)}, targets);
}

}  // namespace

Tensor training_loss(LossKind loss, const models::GlerOutput& output, const Tensor& labels,
                     const std::vector<std::int64_t>& face_counts, bool every_slot, layers::AngleLoss& angle) {
  if (loss == LossKind::asoftmax) return angle_loss(output, labels, face_counts, every_slot, angle);
  if (loss != LossKind::face_ce) return layers::cross_entropy(output.logits, labels);
  const Tensor& x = output.face_logits;
  GLER_CHECK(x.defined() && x.ndim() == 3, "face_ce needs the local model's per-face logits");
  const std::int64_t batch = x.size(0), slots = x.size(1);
  GLER_CHECK(static_cast<std::int64_t>(face_counts.size()) == batch && labels.numel() == batch,
             "face_ce: " << face_counts.size() << " face counts and " << labels.numel() << " labels for a batch of "
                         << batch);
  std::int64_t real = 0;
  for (const std::int64_t n : face_counts) real += n;
  const std::int64_t samples = every_slot ? batch * slots : real;
  // -mean log p(label) over the samples: a weighted sum of every slot's log-probability of its
  // image's label, weight 1/samples on a sample and 0 elsewhere.
  const std::vector<std::int64_t> label = labels.to(Device::CPU).to_vector<std::int64_t>();
  std::vector<std::int64_t> slot_labels(static_cast<std::size_t>(batch * slots));
  std::vector<double> weights(static_cast<std::size_t>(batch * slots), 0.0);
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t s = 0; s < slots; ++s) {
      const std::size_t i = static_cast<std::size_t>(b * slots + s);
      slot_labels[i] = label[static_cast<std::size_t>(b)];
      if (every_slot || s < face_counts[static_cast<std::size_t>(b)]) weights[i] = 1.0 / static_cast<double>(samples);
    }
  const Tensor picked = ops::gather(ops::log_softmax(x, 2),
                                    Tensor::from_vector(slot_labels, {batch, slots}).to(x.device()), 2);
  const Tensor w = Tensor::from_vector(weights, {batch, slots}).to(x.dtype()).to(x.device());
  return ops::neg(ops::sum_all(ops::mul(picked, w)));
}

FaceHits seed_face_hits(const Tensor& face_logits, const Tensor& labels, const std::vector<std::int64_t>& counts,
                        bool every_slot) {
  const std::vector<std::int64_t> p = ops::argmax(face_logits, 2).to(Device::CPU).to_vector<std::int64_t>();
  const std::vector<std::int64_t> t = labels.to(Device::CPU).to_vector<std::int64_t>();
  const auto slots = static_cast<std::size_t>(face_logits.size(1));
  FaceHits hits;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const std::size_t used = every_slot ? slots : static_cast<std::size_t>(counts[i]);
    for (std::size_t j = 0; j < used; ++j) hits.correct += p[i * slots + j] == t[i];
    hits.counted += static_cast<std::int64_t>(used);
  }
  return hits;
}

std::int64_t correct_predictions(const Tensor& logits, const Tensor& labels) {
  const std::vector<std::int64_t> predicted = ops::argmax(logits, 1).to(Device::CPU).to_vector<std::int64_t>();
  const std::vector<std::int64_t> label = labels.to(Device::CPU).to_vector<std::int64_t>();
  std::int64_t correct = 0;
  for (std::size_t i = 0; i < predicted.size(); ++i) correct += predicted[i] == label[i];
  return correct;
}

}  // namespace gler::train
