#include "models/gler/inputs.h"

#include <sstream>
#include <string>

#include "core/error.h"
#include "models/gler/gler_model.h"

namespace gler::models {
namespace {

// Free dimensions, each at least 1: the batch B and the face slots F.
constexpr std::int64_t kAny = -1, kSlots = -2;

std::string pattern(const std::vector<std::int64_t>& dims) {
  std::ostringstream os;
  os << "[";
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (i) os << ", ";
    if (dims[i] == kAny)
      os << "B";
    else if (dims[i] == kSlots)
      os << "F";
    else
      os << dims[i];
  }
  os << "]";
  return os.str();
}

// `t` must be defined, floating with the model's dtype, on its device, and of shape `dims`.
void expect_floating(const Tensor& t, const char* name, const std::vector<std::int64_t>& dims,
                     const InputContext& ctx) {
  const std::string want = std::string(dtype_name(ctx.dtype)) + pattern(dims) + " on " + device_name(ctx.device);
  GLER_CHECK(t.defined(), ctx.model << " needs " << name << " " << want << ", got none");
  bool shape_ok = t.ndim() == static_cast<int>(dims.size());
  for (int d = 0; shape_ok && d < t.ndim(); ++d) {
    const std::int64_t want_d = dims[static_cast<std::size_t>(d)];
    shape_ok = want_d < 0 ? t.size(d) >= 1 : t.size(d) == want_d;
  }
  GLER_CHECK(shape_ok && t.dtype() == ctx.dtype && t.device() == ctx.device,
             ctx.model << ": " << name << " is " << describe(t) << ", expected " << want);
}

void check_batch(const Tensor& t, const char* name, std::int64_t batch, const InputContext& ctx) {
  GLER_CHECK(batch < 0 || t.size(0) == batch, ctx.model << ": " << name << " " << describe(t) << " hold " << t.size(0)
                                                        << " images, the batch has " << batch);
}

}  // namespace

std::int64_t check_images(const Tensor& images, std::int64_t size, const InputContext& ctx) {
  expect_floating(images, "images", {kAny, 3, size, size}, ctx);
  return images.size(0);
}

std::vector<std::int64_t> check_face_counts(const Tensor& counts, std::int64_t batch, std::int64_t slots,
                                            const InputContext& ctx) {
  GLER_CHECK(counts.defined(), ctx.model << " needs face_counts i64[" << batch << "], got none");
  GLER_CHECK(counts.dtype() == DType::i64 && counts.ndim() == 1 && counts.size(0) == batch,
             ctx.model << ": face_counts is " << describe(counts) << ", expected i64[" << batch << "]");
  std::vector<std::int64_t> n = counts.to_vector<std::int64_t>();
  for (std::size_t b = 0; b < n.size(); ++b)
    GLER_CHECK(n[b] >= 0 && n[b] <= slots, ctx.model << ": face_counts[" << b << "] = " << n[b] << " is outside [0, "
                                                     << slots << "], the face slots per image");
  return n;
}

void check_faces(const Tensor& faces, std::int64_t batch, std::int64_t height, std::int64_t width,
                 const InputContext& ctx) {
  expect_floating(faces, "faces", {kAny, kSlots, 3, height, width}, ctx);
  check_batch(faces, "faces", batch, ctx);
}

void check_face_features(const Tensor& features, std::int64_t batch, std::int64_t dim, const InputContext& ctx) {
  expect_floating(features, "face_features", {kAny, kSlots, dim}, ctx);
  check_batch(features, "face_features", batch, ctx);
}

GlerInput GlerInput::to(Device device) const {
  GlerInput out = *this;
  for (Tensor* t : {&out.images, &out.faces, &out.face_counts, &out.face_features, &out.face_boxes, &out.labels})
    if (t->defined()) *t = t->to(device);
  return out;
}

}  // namespace gler::models
