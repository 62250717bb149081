#include "train/data/loader.h"

#include <algorithm>
#include <numeric>

#include "core/cpu/threads.h"
#include "core/error.h"
#include "models/pipeline/group_sample.h"
#include "train/data/random_streams.h"

namespace gler::train {

Loader::Loader(std::vector<Example> examples, DatasetOptions dataset, LoaderOptions options)
    : examples_(std::move(examples)), dataset_(std::move(dataset)), options_(options), cache_(dataset_) {
  GLER_CHECK(options_.batch >= 1, "the batch size must be at least 1, got " << options_.batch);
  GLER_CHECK(options_.workers >= 0, "the worker count must be at least 0, got " << options_.workers);
  GLER_CHECK(options_.prefetch >= 1, "prefetch must be at least 1 batch, got " << options_.prefetch);
  dataset_.model.check();
  GLER_CHECK(!dataset_.model.uses_box_crops(), "the zero-shot default model is not trained on group-emotion data; "
                                               "the loader serves the paper's models (global, local, average, attention_a/b/c)");
  for (int w = 0; w < options_.workers; ++w)
    pool_.emplace_back([this] {
      set_cpu_threads_here(1);
      work();
    });
}

Loader::~Loader() {
  {
    const std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  pool_.clear();  // joins
}

std::size_t Loader::batches_per_epoch() const {
  const std::size_t n = examples_.size(), b = static_cast<std::size_t>(options_.batch);
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

std::size_t Loader::batch_length(std::size_t batch) const {
  const std::size_t b = static_cast<std::size_t>(options_.batch);
  return std::min(b, examples_.size() - batch * b);
}

void Loader::start_epoch(std::int64_t epoch, std::size_t first_batch) {
  const std::size_t batches = batches_per_epoch();
  GLER_CHECK(first_batch <= batches, "start_epoch: batch " << first_batch << " is past the epoch's " << batches << " batches");
  std::vector<std::size_t> order(examples_.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  if (options_.shuffle) {
    Generator gen(shuffle_seed(options_.seed, epoch));
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[uniform_below(gen, i)]);
  }
  {
    const std::lock_guard lock(mutex_);
    ++generation_;
    started_ = true;
    epoch_ = epoch;
    order_ = std::move(order);
    next_batch_ = claim_batch_ = first_batch;
    claim_slot_ = 0;
    end_batch_ = batches;
    pending_.clear();
    ready_.clear();
  }
  changed_.notify_all();
}

PreparedExample Loader::prepare(std::size_t position) const {
  return prepare_example(examples_[position], dataset_, cache_, example_seed(options_.seed, epoch_, position));
}

Batch Loader::assemble(const std::vector<std::size_t>& positions, std::vector<PreparedExample> prepared) const {
  Batch batch;
  std::vector<const models::pipeline::GroupSample*> samples;
  std::vector<std::int64_t> labels;
  for (std::size_t k = 0; k < positions.size(); ++k) {
    if (!prepared[k].sample) {
      batch.skipped.push_back(std::move(prepared[k].skipped));
      continue;
    }
    samples.push_back(&*prepared[k].sample);
    labels.push_back(examples_[positions[k]].label);
    batch.indices.push_back(positions[k]);
  }
  if (!samples.empty()) batch.input = models::pipeline::make_batch(samples, dataset_.model);
  batch.labels = Tensor::from_vector(labels, Shape({static_cast<std::int64_t>(labels.size())}));
  return batch;
}

bool Loader::claimable() const {
  return started_ && claim_batch_ < end_batch_ && claim_batch_ < next_batch_ + static_cast<std::size_t>(options_.prefetch);
}

Loader::Job Loader::claim() {
  Job job;
  job.generation = generation_;
  job.batch = claim_batch_;
  job.slot = claim_slot_;
  job.position = order_[claim_batch_ * static_cast<std::size_t>(options_.batch) + claim_slot_];
  job.augment_seed = example_seed(options_.seed, epoch_, job.position);
  const std::size_t length = batch_length(claim_batch_);
  if (claim_slot_ == 0) pending_[job.batch] = PendingBatch{std::vector<PreparedExample>(length), length, nullptr};
  if (++claim_slot_ == length) {
    ++claim_batch_;
    claim_slot_ = 0;
  }
  return job;
}

void Loader::work() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return stop_ || claimable(); });
      if (stop_) return;
      job = claim();
    }
    PreparedExample prepared;
    std::exception_ptr error;
    try {
      prepared = prepare_example(examples_[job.position], dataset_, cache_, job.augment_seed);
    } catch (...) {
      error = std::current_exception();
    }
    std::optional<PendingBatch> complete;
    std::vector<std::size_t> positions;
    {
      const std::lock_guard lock(mutex_);
      if (job.generation != generation_) continue;  // start_epoch came in between
      PendingBatch& pending = pending_.at(job.batch);
      pending.prepared[job.slot] = std::move(prepared);
      if (error && !pending.error) pending.error = error;
      if (--pending.remaining > 0) continue;
      complete = std::move(pending);
      pending_.erase(job.batch);
      const std::size_t first = job.batch * static_cast<std::size_t>(options_.batch);
      positions.assign(order_.begin() + static_cast<std::ptrdiff_t>(first),
                       order_.begin() + static_cast<std::ptrdiff_t>(first + complete->prepared.size()));
    }
    // The last example of its batch: this worker stacks the batch.
    ReadyBatch ready;
    ready.error = complete->error;
    if (!ready.error) {
      try {
        ready.batch = assemble(positions, std::move(complete->prepared));
      } catch (...) {
        ready.error = std::current_exception();
      }
    }
    {
      const std::lock_guard lock(mutex_);
      if (job.generation == generation_) ready_[job.batch] = std::move(ready);
    }
    changed_.notify_all();
  }
}

std::optional<Batch> Loader::next() {
  std::unique_lock lock(mutex_);
  GLER_CHECK(started_, "Loader::next: call start_epoch first");
  if (next_batch_ >= end_batch_) return std::nullopt;
  if (pool_.empty()) {
    const std::size_t batch = next_batch_++;
    const std::size_t first = batch * static_cast<std::size_t>(options_.batch);
    const std::vector<std::size_t> positions(order_.begin() + static_cast<std::ptrdiff_t>(first),
                                             order_.begin() + static_cast<std::ptrdiff_t>(first + batch_length(batch)));
    lock.unlock();
    std::vector<PreparedExample> prepared;
    for (std::size_t position : positions) prepared.push_back(prepare(position));
    return assemble(positions, std::move(prepared));
  }
  const std::size_t batch = next_batch_;
  changed_.wait(lock, [&] { return ready_.contains(batch); });
  ReadyBatch ready = std::move(ready_.at(batch));
  ready_.erase(batch);
  ++next_batch_;
  lock.unlock();
  changed_.notify_all();  // the window moved on
  if (ready.error) std::rethrow_exception(ready.error);
  return std::move(ready.batch);
}

}  // namespace gler::train
