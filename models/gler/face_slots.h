// Faces of a batch sit in fixed slots, x [B, F, ...], the first counts[b] of image b real and the
// rest empty (zero). The face network runs once on all the real faces of the batch, gathered into
// one batch with a single all-zero face after them when some slot is empty, and its outputs go
// back into the slots: an empty slot gets the zero face's output, the value the seed computes
// for it by running the network on every slot (its A/B score reshape reads those values,
// SEED_SPEC §4.8). Every step is a differentiable tensor op, so training takes the same path;
// inference (no graph) runs the network over chunks of 16 faces, which bounds its memory.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "models/sphere20a.h"

namespace gler::models {

// Whether the face rows end with the zero face: when some slot is empty (or no image has a face).
// A batch whose every slot is filled runs the network on its real faces only.
bool needs_zero_face(const std::vector<std::int64_t>& counts, std::int64_t slots);

// The real faces [N, ...] of x [B, F, ...] in image order, then one zero face if
// needs_zero_face(counts, F): [N + 1, ...] or [N, ...].
Tensor real_faces_and_blank(const Tensor& x, const std::vector<std::int64_t>& counts);

// rows [N (+ 1), D] in real_faces_and_blank's order -> [B, slots, D].
Tensor to_slots(const Tensor& rows, const std::vector<std::int64_t>& counts, std::int64_t slots);

// x [B, F, D] -> [B, D]: the mean over each image's real slots, zero for an image without faces
// (one batched product with weights 1/counts[b] on the real slots, 0 on the others).
Tensor mean_over_faces(const Tensor& x, const std::vector<std::int64_t>& counts);

// The sphere's fc6 output for every slot of faces [B, F, 3, H, W]: [B, F, classes], from one
// batched call on the real faces (and the zero face). `labels` (i64 [B], optional): each real face
// gets its image's label as the target of an L-Softmax fc6 (the zero face class 0; its output
// only fills empty slots).
Tensor encode_faces(Sphere20a& sphere, const Tensor& faces, const std::vector<std::int64_t>& counts,
                    const Tensor& labels = Tensor());
// The same for an A-Softmax fc6: ‖x‖cos θ and ‖x‖ψ(θ) of every slot, [B, F, classes] each.
layers::AngleOutputs encode_faces_angle(Sphere20a& sphere, const Tensor& faces, const std::vector<std::int64_t>& counts);

}  // namespace gler::models
