// The seed's training-time augmentation of the global arch (SEED_SPEC §2.1): torchvision 0.2.1's
// RandomResizedCrop(224) then RandomHorizontalFlip(), then ToTensor and Normalize as
// io::global_image_tensor, drawn from gler's generator instead of Python's `random`; and the
// validation transform that goes with it, Resize(256) then CenterCrop(224).
#pragma once
#include "core/init.h"
#include "io/image.h"

namespace gler::train {

// torchvision's (i, j, h, w): the crop's top row, left column, height and width.
struct CropBox {
  int top = 0, left = 0, height = 0, width = 0;
};

// RandomResizedCrop.get_params(img, scale=(0.08, 1), ratio=(3/4, 4/3)) of torchvision 0.2.1 for a
// width x height image: up to 10 attempts of area·U(0.08, 1) with aspect ratio U(3/4, 4/3)
// (uniform, not log-uniform), w = round(sqrt(area·ratio)), h = round(sqrt(area/ratio)) (Python's
// half-to-even round), swapped with probability 1/2, taken when it fits (and is not empty) at a
// uniform position; else the centred square of side min(width, height). Draws in torchvision's
// order: scale, ratio, swap, then row and column.
CropBox random_resized_crop_box(int width, int height, Generator& gen);

struct GlobalAugmentation {
  CropBox box;
  bool flip = false;
};
// The crop box, then the flip (probability 1/2), as the seed's Compose draws them.
GlobalAugmentation draw_global_augmentation(int width, int height, Generator& gen);

// The box cut out of `decoded` and resized to 224x224 with Pillow's BILINEAR (crop then resize is
// what torchvision's resized_crop does to a PIL image), mirrored left to right when `flip` (which
// commutes with ToTensor and Normalize), normalised as io::global_image_tensor normalises (the
// seed's greyscale quirk included), written as [3, 224, 224] float32 to dst.
void augmented_global_tensor(const io::Image& decoded, const GlobalAugmentation& augmentation, bool seed_compat, float* dst);

// The seed's validation transform of the global arch: Resize(256), the shorter side to 256 and the
// longer to int(256·long/short) (torchvision 0.2.1's arithmetic; an image whose shorter side is 256
// is left as it is), Pillow BILINEAR, then CenterCrop(224) at round((side − 224)/2) (Python's
// half-to-even round), normalised and written as augmented_global_tensor writes.
void center_crop_global_tensor(const io::Image& decoded, bool seed_compat, float* dst);

}  // namespace gler::train
