// Batches of training or validation examples for gler_train: the examples of a split
// (emotiw_dataset.h) prepared by worker threads (training_sample.h) and stacked into the model's
// input (models::GlerInput, as gler_infer stacks them), in an order and with augmentations that
// are pure functions of (seed, epoch), so a run gives the same batches whatever the worker count
// and wherever it was resumed.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "models/gler/gler_model.h"
#include "train/data/emotiw_dataset.h"
#include "train/data/face_cache.h"
#include "train/data/training_sample.h"

namespace gler::train {

struct Batch {
  // On the CPU (the trainer moves it): images, faces (max_faces slots, zero past face_counts),
  // face_counts and face_features as the model needs them. Undefined tensors when every example
  // of the batch was skipped.
  models::GlerInput input;
  Tensor labels;                     // i64 [B]: B = the examples not skipped (may be 0)
  std::vector<std::size_t> indices;  // their positions in the Loader's example list, batch order
  std::vector<std::string> skipped;  // "path: reason" of the batch's examples left out (for the log)
  std::int64_t size() const { return static_cast<std::int64_t>(indices.size()); }
};

struct LoaderOptions {
  std::int64_t batch = 32;  // examples per batch (the last may be short unless drop_last)
  int workers = 2;          // preparing threads, one CPU thread each; 0: next() prepares on the calling thread
  int prefetch = 2;         // batches the workers may have ready or in preparation ahead of next(), >= 1
  bool shuffle = true;      // each epoch a permutation drawn from (seed, epoch); false: list order
  std::uint64_t seed = 0;
  bool drop_last = false;   // leave out the last, short batch
};

class Loader {
 public:
  // Checks the options and the model (models::ModelInfo::check, one of the six paper archs);
  // starts the workers, which wait for start_epoch.
  Loader(std::vector<Example> examples, DatasetOptions dataset, LoaderOptions options);
  ~Loader();  // stops and joins the workers
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  const std::vector<Example>& examples() const { return examples_; }
  std::size_t batches_per_epoch() const;

  // Starts epoch `epoch` at batch `first_batch` (<= batches_per_epoch(); resume), dropping what
  // was prepared for an earlier start. The order is a permutation drawn from
  // Generator(shuffle_seed(seed, epoch)) (Fisher-Yates), each example's augmentation from
  // Generator(example_seed(seed, epoch, position in the example list)) (random_streams.h): a batch
  // depends on (examples, options, seed, epoch, its index) only.
  void start_epoch(std::int64_t epoch, std::size_t first_batch = 0);

  // The epoch's next batch; nullopt at its end. An exception a worker met while preparing this
  // batch (not a skipped example: MTCNN weights missing, the cache not writable) is rethrown here;
  // the following call goes on with the next batch.
  std::optional<Batch> next();

 private:
  struct Job {
    std::uint64_t generation = 0;
    std::size_t batch = 0, slot = 0, position = 0;
    std::uint64_t augment_seed = 0;
  };
  struct PendingBatch {
    std::vector<PreparedExample> prepared;
    std::size_t remaining = 0;
    std::exception_ptr error;
  };
  struct ReadyBatch {
    std::optional<Batch> batch;
    std::exception_ptr error;
  };

  std::size_t batch_length(std::size_t batch) const;
  PreparedExample prepare(std::size_t position) const;
  Batch assemble(const std::vector<std::size_t>& positions, std::vector<PreparedExample> prepared) const;
  bool claimable() const;  // under mutex_
  Job claim();             // under mutex_
  void work();

  const std::vector<Example> examples_;
  const DatasetOptions dataset_;
  const LoaderOptions options_;
  mutable FaceCache cache_;

  std::mutex mutex_;
  std::condition_variable changed_;
  bool started_ = false, stop_ = false;
  std::uint64_t generation_ = 0;  // start_epoch count: work of an earlier start is dropped
  std::int64_t epoch_ = 0;
  std::vector<std::size_t> order_;  // the epoch's example positions
  std::size_t next_batch_ = 0, end_batch_ = 0;
  std::size_t claim_batch_ = 0, claim_slot_ = 0;  // the next example a worker takes
  std::map<std::size_t, PendingBatch> pending_;
  std::map<std::size_t, ReadyBatch> ready_;
  std::vector<std::jthread> pool_;  // last: joined before the members it uses go
};

}  // namespace gler::train
