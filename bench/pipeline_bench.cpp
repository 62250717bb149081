#include "bench/pipeline_bench.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <vector>

#include "core/autograd.h"
#include "core/error.h"
#include "models/faces/mtcnn_detector.h"
#include "models/pipeline/group_sample.h"
#include "models/pipeline/image_inputs.h"
#include "models/pipeline/prediction.h"

namespace gler::bench {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double median_of_last(std::vector<double> v, int runs) {
  v.erase(v.begin(), v.end() - runs);  // the warm-up passes come first
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

PipelineResult run_pipeline_bench(const std::string& folder, const std::string& model_path, Device device, int batch,
                                  int warmup, int runs) {
  using namespace models;
  GLER_CHECK(batch >= 1, "--batch must be at least 1, got " << batch);
  const std::vector<pipeline::ImageInput> inputs = pipeline::collect_image_inputs({folder});
  const std::unique_ptr<GlerModel> model = load_model(model_path, device);
  pipeline::SampleOptions options;
  options.model = model->info();
  const ModelInfo& info = options.model;
  std::unique_ptr<faces::MtcnnDetector> detector;
  if (info.uses_faces() || info.uses_face_features()) {
    faces::MtcnnOptions mtcnn;
    mtcnn.seed_feature_indexing = info.seed_compat;  // as gler_infer builds it
    detector = std::make_unique<faces::MtcnnDetector>(faces::bundled_mtcnn_weights(), device, mtcnn);
  }

  PipelineResult r;
  r.arch = info.arch;
  r.photos = static_cast<int>(inputs.size());
  std::vector<double> prepare_ms, model_ms;
  const auto pass = [&] {
    NoGradGuard no_grad;
    double prepare = 0, run = 0;
    int faces_used = 0;
    std::vector<pipeline::GroupSample> pending;
    const auto flush = [&] {
      const auto t0 = Clock::now();
      std::vector<const pipeline::GroupSample*> samples;
      for (const auto& s : pending) samples.push_back(&s);
      const GlerOutput out = pipeline::run_batch(*model, samples, device);
      for (std::size_t b = 0; b < pending.size(); ++b)
        faces_used += pipeline::make_prediction(pending[b], out, static_cast<std::int64_t>(b), info).faces_used;
      pending.clear();
      run += ms_since(t0);
    };
    for (const auto& input : inputs) {
      const auto t0 = Clock::now();
      pending.push_back(pipeline::prepare_sample(input, options, detector.get()));
      prepare += ms_since(t0);
      if (pending.size() == static_cast<std::size_t>(batch)) flush();
    }
    if (!pending.empty()) flush();
    prepare_ms.push_back(prepare);
    model_ms.push_back(run);
    r.faces = faces_used;
  };
  r.timing = time_calls(pass, r.photos, backend_for(device), warmup, runs);
  r.prepare_ms = median_of_last(prepare_ms, runs);
  r.model_ms = median_of_last(model_ms, runs);
  return r;
}

}  // namespace gler::bench
