// gler_infer's loop: images are read and prepared (decode, MTCNN, alignment, tensors) on worker
// threads while the model runs batches on the calling thread; results come back in input order.
#pragma once
#include <functional>
#include <vector>

#include "core/device.h"
#include "models/faces/mtcnn_detector.h"
#include "models/gler/gler_model.h"
#include "models/pipeline/group_sample.h"
#include "models/pipeline/image_inputs.h"
#include "models/pipeline/prediction.h"

namespace gler::models::pipeline {

struct InferSettings {
  SampleOptions sample;
  int batch = 8;    // images per model call
  int workers = 2;  // preparing threads, each running its CPU kernels on one thread; 0: all on the caller
};

// Called once per input, in input order, never from two threads at once. `sample` is null when
// the image failed (prediction.error says why).
using OnPrediction = std::function<void(const ImageInput& input, const Prediction& prediction, const GroupSample* sample)>;

// A failing image is reported through on_prediction and the run goes on; an exception from the
// model or from on_prediction ends the run and is rethrown here after the workers stop.
void run_inference(const std::vector<ImageInput>& inputs, GlerModel& model, const faces::MtcnnDetector* detector,
                   Device device, const InferSettings& settings, const OnPrediction& on_prediction);

}  // namespace gler::models::pipeline
