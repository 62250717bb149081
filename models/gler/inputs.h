// Checks of a GlerInput against the model that reads it, before anything touches its memory. Each
// error names the tensor, says what it is and what the model expected.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace gler::models {

// The dtype and device of the model's parameters, which its floating inputs must share.
struct InputContext {
  const char* model;  // the arch, for messages
  DType dtype;
  Device device;
};

// images [B, 3, size, size]; returns B.
std::int64_t check_images(const Tensor& images, std::int64_t size, const InputContext& ctx);
// face_counts: i64 [batch] (on any device), each in [0, slots]; returns the counts on the host.
// Slot counts: the weights of no model depend on them, so any F >= 1 is accepted (max_faces as a
// rule; gler_infer --max-faces changes it).
std::vector<std::int64_t> check_face_counts(const Tensor& counts, std::int64_t batch, std::int64_t slots,
                                            const InputContext& ctx);
// faces [batch, F, 3, height, width] (batch < 0: any B) with F >= 1.
void check_faces(const Tensor& faces, std::int64_t batch, std::int64_t height, std::int64_t width,
                 const InputContext& ctx);
// face_features [batch, F, dim] with F >= 1.
void check_face_features(const Tensor& features, std::int64_t batch, std::int64_t dim, const InputContext& ctx);

}  // namespace gler::models
