#include "models/gler/face_slots.h"

#include <algorithm>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops.h"

namespace gler::models {

bool needs_zero_face(const std::vector<std::int64_t>& counts, std::int64_t slots) {
  // An empty slot takes the zero face's output; a batch without any face still runs the network
  // on one row, so every model has its face outputs' shapes.
  return std::any_of(counts.begin(), counts.end(), [slots](std::int64_t n) { return n < slots; }) ||
         std::all_of(counts.begin(), counts.end(), [](std::int64_t n) { return n == 0; });
}

Tensor real_faces_and_blank(const Tensor& x, const std::vector<std::int64_t>& counts) {
  GLER_CHECK(x.ndim() >= 2 && x.size(0) == static_cast<std::int64_t>(counts.size()),
             "real_faces_and_blank: " << describe(x) << " is not [B, F, ...] for " << counts.size() << " images");
  const bool blank = needs_zero_face(counts, x.size(1));
  std::vector<std::int64_t> shape = x.shape().to_vector();
  shape.erase(shape.begin());  // [F, ...]: one image's slots
  std::vector<Tensor> parts;
  for (std::size_t b = 0; b < counts.size(); ++b) {
    const auto i = static_cast<std::int64_t>(b);
    if (counts[b] > 0) parts.push_back(x.slice(i, i + 1).reshape(Shape(shape)).slice(0, counts[b]));
  }
  if (blank) {
    shape.front() = 1;  // [1, ...]: the zero face
    parts.push_back(Tensor::zeros(Shape(shape), x.dtype(), x.device()));
  }
  return ops::concat(parts, 0);
}

Tensor to_slots(const Tensor& rows, const std::vector<std::int64_t>& counts, std::int64_t slots) {
  std::int64_t real = 0;
  for (std::int64_t n : counts) real += n;
  const bool with_blank = needs_zero_face(counts, slots);
  GLER_CHECK(rows.ndim() == 2 && rows.size(0) == real + (with_blank ? 1 : 0),
             "to_slots: rows " << describe(rows) << " are not the " << real << " real faces"
                               << (with_blank ? " and the zero face" : ""));
  const std::int64_t dim = rows.size(1);
  const Tensor blank = with_blank ? rows.slice(real, real + 1).reshape({dim}) : Tensor();
  std::vector<Tensor> parts;
  std::int64_t offset = 0;
  for (std::int64_t n : counts) {
    if (n > 0) parts.push_back(rows.slice(offset, offset + n));
    if (n < slots) parts.push_back(ops::expand(blank, 0, slots - n));
    offset += n;
  }
  return ops::concat(parts, 0).reshape({static_cast<std::int64_t>(counts.size()), slots, dim});
}

Tensor mean_over_faces(const Tensor& x, const std::vector<std::int64_t>& counts) {
  const auto batch = static_cast<std::int64_t>(counts.size());
  GLER_CHECK(x.ndim() == 3 && x.size(0) == batch,
             "mean_over_faces: " << describe(x) << " is not [B, F, D] for " << batch << " images");
  const std::int64_t slots = x.size(1), dim = x.size(2);
  std::vector<double> weights(static_cast<std::size_t>(batch * slots), 0.0);
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t j = 0; j < counts[static_cast<std::size_t>(b)]; ++j)
      weights[static_cast<std::size_t>(b * slots + j)] = 1.0 / static_cast<double>(counts[static_cast<std::size_t>(b)]);
  const Tensor w = Tensor::from_vector(weights, {batch, 1, slots}).to(x.dtype()).to(x.device());
  return ops::matmul(w, x).reshape({batch, dim});
}

namespace {

// Without a graph (inference) the sphere runs over chunks of this many faces, so its activations
// take a bounded amount of memory however many faces a batch has; a training forward keeps every
// activation for the backward anyway, and runs in one call. Each face's output is its own: no
// layer of the sphere mixes faces. 16: one image of the paper's 15 faces and the zero face in one
// call; against chunks of 64, one image of 64 faces peaks at 362 MiB instead of 666, for a few
// percent of time at most (docs/PERFORMANCE.md).
constexpr std::int64_t kInferenceChunk = 16;

SphereOutput sphere_rows(Sphere20a& sphere, const Tensor& rows, const Tensor& labels) {
  const std::int64_t n = rows.size(0);
  if (grad_enabled() || n <= kInferenceChunk) return sphere.forward(rows, labels);
  std::vector<Tensor> feature, logits, cos, phi;
  for (std::int64_t begin = 0; begin < n; begin += kInferenceChunk) {
    const std::int64_t end = std::min(n, begin + kInferenceChunk);
    const SphereOutput part = sphere.forward(rows.slice(begin, end), labels.defined() ? labels.slice(begin, end) : Tensor());
    feature.push_back(part.feature);
    if (part.logits.defined()) logits.push_back(part.logits);
    if (part.angle.cos_theta.defined()) {
      cos.push_back(part.angle.cos_theta);
      phi.push_back(part.angle.phi_theta);
    }
  }
  SphereOutput out;
  out.feature = ops::concat(feature, 0);
  if (!logits.empty()) out.logits = ops::concat(logits, 0);
  if (!cos.empty()) out.angle = {ops::concat(cos, 0), ops::concat(phi, 0)};
  return out;
}

}  // namespace

Tensor encode_faces(Sphere20a& sphere, const Tensor& faces, const std::vector<std::int64_t>& counts,
                    const Tensor& labels) {
  Tensor row_labels;
  if (labels.defined()) {
    GLER_CHECK(labels.dtype() == DType::i64 && labels.numel() == static_cast<std::int64_t>(counts.size()),
               "encode_faces: labels " << describe(labels) << " are not i64 [" << counts.size() << "]");
    const std::vector<std::int64_t> per_image = labels.to(Device::CPU).to_vector<std::int64_t>();
    std::vector<std::int64_t> rows;
    for (std::size_t b = 0; b < counts.size(); ++b) rows.insert(rows.end(), static_cast<std::size_t>(counts[b]), per_image[b]);
    if (needs_zero_face(counts, faces.size(1))) rows.push_back(0);
    row_labels = Tensor::from_vector(rows, {static_cast<std::int64_t>(rows.size())}).to(faces.device());
  }
  const Tensor out = sphere_rows(sphere, real_faces_and_blank(faces, counts), row_labels).logits;
  GLER_CHECK(out.defined(), "encode_faces needs a sphere20a with a linear or L-Softmax fc6");
  return to_slots(out, counts, faces.size(1));
}

layers::AngleOutputs encode_faces_angle(Sphere20a& sphere, const Tensor& faces, const std::vector<std::int64_t>& counts) {
  const layers::AngleOutputs out = sphere_rows(sphere, real_faces_and_blank(faces, counts), Tensor()).angle;
  GLER_CHECK(out.cos_theta.defined(), "encode_faces_angle needs a sphere20a with an A-Softmax fc6");
  return {to_slots(out.cos_theta, counts, faces.size(1)), to_slots(out.phi_theta, counts, faces.size(1))};
}

}  // namespace gler::models
