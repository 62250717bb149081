// The synthetic photos' backgrounds: a linear gradient, smooth noise, or a few flat shapes over a
// plain colour, so that the faces are not the only thing in the picture.
#pragma once
#include <string>

#include "io/image.h"
#include "train/synth/synth_random.h"

namespace gler::synth {

// Paints all of `image` (RGB) and returns the kind drawn: "gradient", "noise" or "shapes".
std::string paint_background(io::Image& image, SynthRandom& random);

}  // namespace gler::synth
