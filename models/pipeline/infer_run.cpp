#include "models/pipeline/infer_run.h"

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "core/autograd.h"
#include "core/cpu/threads.h"
#include "core/error.h"

namespace gler::models::pipeline {
namespace {

struct Prepared {
  std::optional<GroupSample> sample;
  std::string error;
};

Prepared prepare(const ImageInput& input, const SampleOptions& options, const faces::MtcnnDetector* detector) {
  Prepared p;
  try {
    p.sample = prepare_sample(input, options, detector);
  } catch (const std::exception& e) {
    p.error = e.what();
  }
  return p;
}

// Slots filled by the workers in any order and taken by the caller in input order; a worker stays
// at most `window` images ahead of the caller, which bounds the memory held by prepared images.
class PreparedQueue {
 public:
  PreparedQueue(const std::vector<ImageInput>& inputs, const SampleOptions& options, const faces::MtcnnDetector* detector,
                int workers, std::size_t window)
      : inputs_(inputs), options_(options), detector_(detector), slots_(inputs.size()), window_(window) {
    for (int w = 0; w < workers; ++w)
      pool_.emplace_back([this] {
        set_cpu_threads_here(1);
        work();
      });
  }
  ~PreparedQueue() {
    {
      const std::lock_guard lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    pool_.clear();  // joins
  }
  PreparedQueue(const PreparedQueue&) = delete;
  PreparedQueue& operator=(const PreparedQueue&) = delete;

  Prepared take(std::size_t i) {
    if (pool_.empty()) return prepare(inputs_[i], options_, detector_);
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return slots_[i].has_value(); });
    Prepared p = std::move(*slots_[i]);
    slots_[i].reset();
    taken_ = i + 1;
    lock.unlock();
    changed_.notify_all();
    return p;
  }

 private:
  void work() {
    for (;;) {
      std::size_t i;
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return stop_ || next_ >= inputs_.size() || next_ < taken_ + window_; });
        if (stop_ || next_ >= inputs_.size()) return;
        i = next_++;
      }
      Prepared p = prepare(inputs_[i], options_, detector_);
      {
        const std::lock_guard lock(mutex_);
        slots_[i] = std::move(p);
      }
      changed_.notify_all();
    }
  }

  const std::vector<ImageInput>& inputs_;
  const SampleOptions& options_;
  const faces::MtcnnDetector* detector_;
  std::vector<std::optional<Prepared>> slots_;
  const std::size_t window_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t next_ = 0, taken_ = 0;
  bool stop_ = false;
  std::vector<std::jthread> pool_;  // last: joined before the members it uses go
};

}  // namespace

void run_inference(const std::vector<ImageInput>& inputs, GlerModel& model, const faces::MtcnnDetector* detector,
                   Device device, const InferSettings& settings, const OnPrediction& on_prediction) {
  GLER_CHECK(settings.batch >= 1, "the batch size must be at least 1, got " << settings.batch);
  GLER_CHECK(settings.workers >= 0, "the worker count must be at least 0, got " << settings.workers);
  const ModelInfo& info = settings.sample.model;
  const std::size_t batch = static_cast<std::size_t>(settings.batch);
  PreparedQueue queue(inputs, settings.sample, detector, settings.workers,
                      2 * batch + static_cast<std::size_t>(settings.workers));
  NoGradGuard no_grad;

  // Images wait here in input order until their batch has run; failed ones keep their place.
  std::vector<std::pair<std::size_t, Prepared>> pending;
  auto flush = [&] {
    std::vector<const GroupSample*> samples;
    for (const auto& [i, p] : pending)
      if (p.sample) samples.push_back(&*p.sample);
    GlerOutput out;
    if (!samples.empty()) out = run_batch(model, samples, device);
    std::int64_t row = 0;
    for (const auto& [i, p] : pending) {
      if (p.sample) on_prediction(inputs[i], make_prediction(*p.sample, out, row++, info), &*p.sample);
      else on_prediction(inputs[i], failed_prediction(inputs[i].path, p.error), nullptr);
    }
    pending.clear();
  };
  std::size_t ready = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    Prepared p = queue.take(i);
    ready += p.sample.has_value();
    pending.emplace_back(i, std::move(p));
    if (ready == batch) {
      flush();
      ready = 0;
    }
  }
  flush();
}

}  // namespace gler::models::pipeline
