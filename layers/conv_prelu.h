// Conv2d → PReLU → optional MaxPool2d, the unit MTCNN's nets are built of, as one op. When a
// gradient is to be recorded it is the layers one after another; otherwise (inference) one backend
// call, Backend::conv2d_prelu_forward, whose values are the same: on the CPU it reads the
// convolution's output once, in the layout the convolution computed it in, and writes only the
// pooled result.
#pragma once
#include "layers/activations.h"
#include "layers/conv2d.h"
#include "layers/pool2d.h"

namespace gler::layers {

// pool may be null (no pooling).
Tensor conv2d_prelu(const Conv2d& conv, const PReLU& act, const MaxPool2d* pool, const Tensor& x);

}  // namespace gler::layers
