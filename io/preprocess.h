// Image -> network input, as the seed's torchvision transforms compute it (torchvision's ToTensor
// and Normalize in float32, Pillow's resize), so that a gler model sees the values the seed's
// PyTorch model saw (SEED_SPEC §2.1-2.2).
#pragma once
#include "io/image.h"

namespace gler::io {

constexpr int kGlobalImageSize = 224;

// The global branch: Resize((224, 224)) (Pillow BILINEAR, the aspect ratio not kept, as the seed's
// savers and fusion models feed it) -> ToTensor (u8 / 255) -> Normalize with ImageNet's mean and
// std, written as [3, 224, 224] float32 to dst. `decoded` has 1, 3 or 4 channels; RGBA drops its
// alpha. A greyscale image in seed mode is resized as L, normalised with the red channel's
// constants only and replicated into 3 channels (torchvision 0.2.1 zips the channels with the
// constants; SEED_SPEC §8.8); otherwise it becomes RGB first and each channel gets its own.
void global_image_tensor(const Image& decoded, bool seed_compat, float* dst);

// An aligned face crop (RGB, or L which is replicated) -> [3, H, W] float32 at dst. Seed mode:
// ToTensor only, values in [0, 1] (the seed feeds sphere20a unnormalised); otherwise SphereFace's
// own (x − 127.5) / 128.
void face_tensor(const Image& crop, bool seed_compat, float* dst);

}  // namespace gler::io
