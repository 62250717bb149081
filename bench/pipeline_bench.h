// gler_bench --pipeline: the whole photo pipeline (models/pipeline's pieces, in turn on the calling
// thread as gler_infer --workers 0 runs them: decode, MTCNN, alignment, the model's input tensors,
// the model, the label) over every photo of a folder, timed pass by pass.
#pragma once
#include <string>

#include "bench/model_bench.h"
#include "core/device.h"

namespace gler::bench {

struct PipelineResult {
  BenchResult timing;  // per pass over the folder; images_per_s is photos per second
  std::string arch;    // the model's
  int photos = 0, faces = 0;  // per pass: photos, and faces the model was given
  // Medians over the timed passes of each stage's total per pass: decode + MTCNN + alignment +
  // input preparation (prepare_sample), and the batched model calls with their labels.
  double prepare_ms = 0, model_ms = 0;
};

// `batch` photos per model call. Throws gler::Error for a folder without images.
PipelineResult run_pipeline_bench(const std::string& folder, const std::string& model_path, Device device, int batch,
                                  int warmup, int runs);

}  // namespace gler::bench
