#include "train/trainer/trainer.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops.h"
#include "io/files.h"
#include "io/json.h"
#include "layers/cross_entropy.h"
#include "models/checkpoint.h"
#include "train/data/loader.h"
#include "train/data/random_streams.h"
#include "train/optim/adam.h"
#include "train/optim/sgd.h"
#include "train/optim/step_lr.h"
#include "train/report/confusion.h"
#include "train/report/curves_svg.h"
#include "train/report/training_log.h"
#include "train/trainer/initialise.h"
#include "train/trainer/losses.h"
#include "train/trainer/run_checkpoint.h"

namespace gler::train {
namespace {

namespace fs = std::filesystem;

// Dropout masks of epoch e, batch k come from derive_seed(seed, e, kDropoutStream + k): a stream no
// example position reaches (the loader's augmentation uses the positions).
constexpr std::uint64_t kDropoutStream = std::uint64_t{1} << 62;

using Clock = std::chrono::steady_clock;

int epochs_of(const TrainOptions& o) {
  if (o.epochs > 0) return o.epochs;
  return o.full_dataset ? o.config.epochs_full : o.config.epochs;
}
std::int64_t batch_of(const TrainOptions& o) { return o.batch > 0 ? o.batch : o.config.batch; }

// What makes two runs the same run: --resume refuses a checkpoint of another. The epoch count may
// change (a run can be extended).
std::string run_identity(const TrainOptions& o) {
  json::Value run;
  run.set("config", to_json(o.config));
  run.set("seed", std::to_string(o.seed));
  run.set("full_dataset", o.full_dataset);
  run.set("batch", static_cast<long long>(batch_of(o)));
  return json::dump(run);
}

std::vector<ParamGroup> parameter_groups(const models::GlerModel& model, const TrainConfig& config) {
  const NamedTensors all = model.named_parameters();
  NamedTensors chosen;
  if (config.train_only.empty()) {
    chosen = all;
  } else {
    for (const std::string& prefix : config.train_only) {
      const NamedTensors part = parameters_under(all, prefix);
      GLER_CHECK(!part.empty(), "config.train_only: the model has no parameter named '" << prefix << "*'");
      chosen.insert(chosen.end(), part.begin(), part.end());
    }
  }
  return {ParamGroup{chosen, config.optimizer.lr, config.optimizer.weight_decay}};
}

std::unique_ptr<Optimizer> make_optimizer(const models::GlerModel& model, const TrainConfig& config) {
  const OptimizerConfig& o = config.optimizer;
  if (o.type == "adam")
    return std::make_unique<Adam>(parameter_groups(model, config),
                                  AdamOptions{.beta1 = o.beta1, .beta2 = o.beta2, .eps = o.eps});
  return std::make_unique<Sgd>(parameter_groups(model, config), SgdOptions{.momentum = o.momentum, .nesterov = o.nesterov});
}

std::vector<std::int64_t> counts_of(const models::GlerInput& in) {
  if (!in.face_counts.defined()) return {};
  return in.face_counts.to(Device::CPU).to_vector<std::int64_t>();
}

// The model's training mode: the seed leaves a frozen backbone in train mode (its BatchNorm
// statistics drift, SEED_SPEC §4.7); the default keeps what is not trained in eval mode.
void set_training_mode(models::GlerModel& model, bool seed_compat) {
  model.train();
  if (seed_compat) return;
  if (Module* frozen = model.frozen_backbone()) frozen->eval();
}

std::map<std::string, std::string> model_metadata(const models::GlerModel& model, const TrainConfig& config,
                                                  int epoch, double accuracy) {
  std::map<std::string, std::string> meta = model.info().to_metadata();
  for (const auto& [k, v] : models::shapes_to_metadata(config.shapes)) meta[k] = v;
  json::Value trained;
  trained.set("config", config.name);
  trained.set("epoch", epoch + 1);
  trained.set("val_accuracy", accuracy);
  meta["gler_train"] = json::dump(trained);
  return meta;
}

// One validation image's result, for val_outputs.json.
struct Scored {
  std::string image;
  std::array<float, 3> logits;
  int label;
};

// One pass over the validation split.
struct Validation {
  ensemble::Evaluation evaluation;
  double loss_sum = 0;  // batch-mean cross-entropy x batch size
  std::vector<Scored> scored;
  std::int64_t face_correct = 0, faces = 0;  // the seed's Local metric (seed_face_hits)
};

class Run {
 public:
  Run(const TrainOptions& options, TrainObserver& observer, const std::atomic<bool>& stop)
      : o_(options), observer_(observer), stop_(stop), epochs_(epochs_of(options)), batch_(batch_of(options)) {}

  TrainResult go() {
    const TrainConfig& config = o_.config;
    fs::create_directories(o_.out);
    const fs::path checkpoint = o_.out / "checkpoint.safetensors";
    GLER_CHECK(o_.resume || !fs::exists(checkpoint),
               o_.out.string() << " already holds a run (checkpoint.safetensors): --resume to continue it, or choose "
                                  "another --out");
    GLER_CHECK(!o_.resume || fs::exists(checkpoint),
               "--resume: " << checkpoint.string() << " not found (nothing to resume)");

    DatasetOptions dataset;
    dataset.root = o_.data;
    dataset.full_dataset = o_.full_dataset;
    dataset.model = config.model;
    dataset.mtcnn_weights = o_.mtcnn_weights;
    dataset.emotic = config.dataset == "emotic";
    GLER_CHECK(!dataset.emotic || !o_.full_dataset, "--full-dataset: EmotiC has no FullDataset split");
    DatasetOptions train_set = dataset;
    train_set.augment = config.augment;
    dataset.center_crop = config.augment;  // the seed validates an augmented global model on centre crops
    std::vector<Example> train_examples = list_split(train_set, Split::train);
    std::vector<Example> val_examples = list_split(dataset, Split::val);
    GLER_CHECK(!train_examples.empty(), o_.data.string() << ": the training split has no images");
    GLER_CHECK(!val_examples.empty(), o_.data.string() << ": the validation split has no images");
    const LoaderOptions train_loading{.batch = batch_, .workers = o_.workers, .shuffle = true, .seed = o_.seed};
    const LoaderOptions val_loading{.batch = batch_, .workers = o_.workers, .shuffle = false, .seed = o_.seed};
    Loader train_loader(std::move(train_examples), train_set, train_loading);
    Loader val_loader(std::move(val_examples), dataset, val_loading);

    Generator init_gen(o_.seed);
    model_ = models::make_model(config.model, init_gen, config.shapes);
    if (!o_.resume && !o_.no_init)
      for (const InitSource& source : config.init) observer_.message("init " + initialise_from(*model_, source, o_.init_dir));
    model_->to(o_.device);
    optimizer_ = make_optimizer(*model_, config);
    std::optional<StepLR> schedule;
    if (config.schedule.step_size > 0) schedule.emplace(*optimizer_, config.schedule.step_size, config.schedule.gamma);

    const std::string run = run_identity(o_);
    if (o_.resume) {
      LoadedCheckpoint loaded = load_run_checkpoint(checkpoint, *model_, *optimizer_);
      GLER_CHECK(loaded.run == run, "--resume: " << checkpoint.string()
                                                 << " is a run of other settings (config, seed, --batch or "
                                                    "--full-dataset differ); its run: "
                                                 << loaded.run);
      pos_ = std::move(loaded.position);
      angle_loss_.set_iteration(pos_.angle_iteration);
      observer_.message("resuming at epoch " + std::to_string(pos_.epoch + 1) + ", batch " +
                        std::to_string(pos_.next_batch + 1));
    }
    if (o_.resume && fs::exists(o_.out / "skipped.txt")) {
      std::ifstream in(o_.out / "skipped.txt");
      for (std::string line; std::getline(in, line);)
        if (!line.empty() && reported_.insert(line).second) skipped_lines_ += line + "\n";
    }
    // Rewritten on --resume too: more --epochs extend the run.
    json::Value run_json = json::parse(run);
    run_json.set("epochs", epochs_);
    io::write_text_atomic(o_.out / "config.json", json::dump(run_json, 1) + "\n");

    TrainResult result;
    for (; pos_.epoch < epochs_; ++pos_.epoch, pos_.next_batch = 0) {
      const int e = pos_.epoch;
      if (schedule) schedule->begin_epoch(e);
      const Clock::time_point start = Clock::now();
      if (!train_epoch(train_loader, result)) return result;
      if (stop_) {  // interrupted during the last batch: keep what is done, validate on resume
        save(checkpoint, start);
        result.status = TrainStatus::interrupted;
        return finish(result);
      }
      Validation val;
      validate(val_loader, val);
      const ensemble::Evaluation& evaluation = val.evaluation;
      const double val_loss_sum = val.loss_sum, selection = selection_metric(val);
      pos_.seconds += seconds_since(start);

      EpochRecord record{};
      record.epoch = e + 1;
      record.lr = optimizer_->group(0).lr;
      record.train_images = pos_.images;
      record.train_loss = pos_.images ? pos_.loss_sum / static_cast<double>(pos_.images) : NAN;
      record.train_accuracy = pos_.images ? static_cast<double>(pos_.correct) / static_cast<double>(pos_.images) : NAN;
      record.val_images = static_cast<std::int64_t>(evaluation.total);
      record.val_loss = evaluation.total ? val_loss_sum / static_cast<double>(evaluation.total) : NAN;
      record.val_accuracy = evaluation.total ? evaluation.accuracy() : 0;
      record.skipped = pos_.skipped;
      record.seconds = seconds_since(start);
      record.best = selection > pos_.best_selection;  // strictly greater, as the seed
      if (record.best) {
        pos_.best_selection = selection;
        pos_.best_accuracy = record.val_accuracy;
        pos_.best_epoch = e;
        pos_.best_evaluation = evaluation;
        models::save_weights(*model_, (o_.out / "best.safetensors").string(),
                             model_metadata(*model_, config, e, record.val_accuracy));
        write_val_outputs(val.scored);
      }
      pos_.records.push_back(record);
      write_training_log(o_.out / "log.jsonl", pos_.records);
      // The config's name as the title: its description runs far wider than the plot.
      write_training_curves(o_.out / "curves.svg", pos_.records, config.name);
      observer_.epoch_end(record);
      // The epoch is done: the checkpoint says so (next epoch, batch 0, sums cleared).
      RunPosition next = pos_;
      ++next.epoch;
      next.next_batch = 0;
      next.loss_sum = 0;
      next.correct = next.images = next.skipped = 0;
      save_position(checkpoint, next);
      result.epochs_done = e + 1;
      const bool at_limit = o_.max_steps > 0 && pos_.steps >= o_.max_steps;
      if ((stop_ || at_limit) && next.epoch < epochs_) {
        pos_ = next;
        result.status = stop_ ? TrainStatus::interrupted : TrainStatus::step_limit;
        return finish(result);
      }
      pos_.loss_sum = 0;
      pos_.correct = pos_.images = pos_.skipped = 0;
    }
    result.status = TrainStatus::finished;
    if (pos_.best_epoch >= 0) {
      io::write_text_atomic(o_.out / "confusion.json", json::dump(confusion_json(pos_.best_evaluation), 1) + "\n");
      observer_.message("best epoch " + std::to_string(pos_.best_epoch + 1) + " (validation):\n" +
                        confusion_table(pos_.best_evaluation));
    } else {
      observer_.message("no epoch reached a validation accuracy above 0: no best.safetensors");
    }
    return finish(result);
  }

 private:
  static double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

  TrainResult& finish(TrainResult& r) {
    r.epochs_done = static_cast<int>(pos_.records.size());
    r.best_epoch = pos_.best_epoch;
    r.best_accuracy = pos_.best_accuracy;
    r.best_evaluation = pos_.best_evaluation;
    r.steps = pos_.steps;
    return r;
  }

  void save_position(const fs::path& checkpoint, const RunPosition& p) {
    save_run_checkpoint(checkpoint, *model_, *optimizer_, p, run_identity(o_));
  }
  void save(const fs::path& checkpoint, Clock::time_point epoch_start) {
    RunPosition p = pos_;
    p.seconds += seconds_since(epoch_start);
    save_position(checkpoint, p);
  }

  // The best model's validation logits as gler_infer writes them, and the labels, for
  // gler_ensemble --inputs RUN/val_outputs.json --labels RUN/val_labels.csv.
  void write_val_outputs(const std::vector<Scored>& scored) const {
    json::Array items;
    std::string csv = "image,label\n";
    for (const Scored& s : scored) {
      const int predicted = static_cast<int>(std::max_element(s.logits.begin(), s.logits.end()) - s.logits.begin());
      json::Value item;
      item.set("image", s.image);
      item.set("label", ensemble::kClassNames[static_cast<std::size_t>(predicted)]);
      json::Array logits;
      for (const float x : s.logits) logits.emplace_back(static_cast<double>(x));
      item.set("logits", std::move(logits));
      items.push_back(std::move(item));
      csv += s.image + "," + ensemble::kClassNames[static_cast<std::size_t>(s.label)] + "\n";
    }
    io::write_text_atomic(o_.out / "val_outputs.json", json::dump(json::Value(std::move(items)), 1) + "\n");
    io::write_text_atomic(o_.out / "val_labels.csv", csv);
  }

  // Each image that cannot be used is named once: on stderr and in RUN/skipped.txt ("path: reason"
  // per line, kept across --resume).
  void report_skipped(const Batch& batch) {
    bool added = false;
    for (const std::string& s : batch.skipped)
      if (reported_.insert(s).second) {
        observer_.message("skipped " + s);
        skipped_lines_ += s + "\n";
        added = true;
      }
    if (added) io::write_text_atomic(o_.out / "skipped.txt", skipped_lines_);
  }

  // The epoch's training batches from pos_.next_batch on. False when the run stops here
  // (interrupted or at max_steps), checkpointed mid-epoch.
  bool train_epoch(Loader& loader, TrainResult& result) {
    const TrainConfig& config = o_.config;
    const int e = pos_.epoch;
    const fs::path checkpoint = o_.out / "checkpoint.safetensors";
    const Clock::time_point start = Clock::now();
    set_training_mode(*model_, config.model.seed_compat);
    // The seed's TrainDataset Local trains on its padding slots too; its FullDataset one does not.
    const bool every_slot = config.model.seed_compat && !o_.full_dataset;
    loader.start_epoch(e, static_cast<std::size_t>(pos_.next_batch));
    const std::size_t total = loader.examples().size(), done = static_cast<std::size_t>(pos_.next_batch * batch_);
    observer_.phase_begin("epoch " + std::to_string(e + 1) + "/" + std::to_string(epochs_) + " train",
                          done < total ? total - done : 0);
    while (std::optional<Batch> batch = loader.next()) {
      report_skipped(*batch);
      pos_.skipped += static_cast<std::int64_t>(batch->skipped.size());
      const std::int64_t b = batch->size();
      if (b > 0) {
        models::GlerInput input = batch->input.to(o_.device);
        const Tensor labels = batch->labels.to(o_.device);
        if (config.loss == LossKind::lsoftmax) input.labels = labels;
        Generator dropout(derive_seed(o_.seed, e, kDropoutStream + static_cast<std::uint64_t>(pos_.next_batch)));
        optimizer_->zero_grad();
        const models::GlerOutput out = model_->forward(input, &dropout);
        const Tensor loss =
            training_loss(config.loss, out, labels, counts_of(batch->input), every_slot, angle_loss_);
        const double value = loss.item();
        GLER_CHECK(std::isfinite(value),
                   "the training loss is " << value << " at epoch " << e + 1 << ", batch " << pos_.next_batch + 1
                                           << ": stopped; " << checkpoint.string()
                                           << " keeps the last good state (try a lower learning rate)");
        backward(loss);
        optimizer_->step();
        ++pos_.steps;
        pos_.angle_iteration = angle_loss_.iteration();
        pos_.loss_sum += value * static_cast<double>(b);
        pos_.correct += correct_predictions(out.logits, labels);
        pos_.images += b;
      }
      ++pos_.next_batch;
      observer_.batch_end(static_cast<std::size_t>(b) + batch->skipped.size(), pos_.images ? pos_.loss_sum / static_cast<double>(pos_.images) : 0.0,
                          pos_.images ? static_cast<double>(pos_.correct) / static_cast<double>(pos_.images) : 0.0);
      const bool at_limit = o_.max_steps > 0 && pos_.steps >= o_.max_steps;
      if ((stop_ || at_limit) && static_cast<std::size_t>(pos_.next_batch) < loader.batches_per_epoch()) {
        observer_.phase_end();
        save(checkpoint, start);
        result.status = at_limit ? TrainStatus::step_limit : TrainStatus::interrupted;
        finish(result);
        return false;
      }
    }
    observer_.phase_end();
    return true;
  }

  // What the best epoch is chosen by: the image accuracy; under seed_compat, for the Local model's
  // per-face loss, the seed's own number: correct faces over images (TrainDataset, up to max_faces
  // per image) or over faces (FullDataset).
  double selection_metric(const Validation& v) const {
    if (!(o_.config.model.seed_compat && o_.config.loss == LossKind::face_ce)) return v.evaluation.total ? v.evaluation.accuracy() : 0;
    const double over = o_.full_dataset ? static_cast<double>(v.faces) : static_cast<double>(v.evaluation.total);
    return over > 0 ? static_cast<double>(v.face_correct) / over : 0;
  }

  void validate(Loader& loader, Validation& v) {
    const bool seed_faces = o_.config.model.seed_compat && o_.config.loss == LossKind::face_ce;
    model_->eval();
    NoGradGuard no_grad;
    loader.start_epoch(0);
    observer_.phase_begin("epoch " + std::to_string(pos_.epoch + 1) + "/" + std::to_string(epochs_) + " val",
                          loader.examples().size());
    std::vector<int> labels, predicted;
    std::int64_t correct = 0, images = 0;
    while (std::optional<Batch> batch = loader.next()) {
      report_skipped(*batch);
      const std::int64_t b = batch->size();
      if (b > 0) {
        const Tensor y = batch->labels.to(o_.device);
        const models::GlerOutput out = model_->forward(batch->input.to(o_.device));
        v.loss_sum += layers::cross_entropy(out.logits, y).item() * static_cast<double>(b);
        if (seed_faces) {
          const FaceHits hits = seed_face_hits(out.face_logits, batch->labels, counts_of(batch->input), !o_.full_dataset);
          v.face_correct += hits.correct;
          v.faces += hits.counted;
        }
        const std::vector<std::int64_t> p = ops::argmax(out.logits, 1).to(Device::CPU).to_vector<std::int64_t>();
        const std::vector<std::int64_t> t = batch->labels.to_vector<std::int64_t>();
        const std::vector<float> l = out.logits.to(DType::f32).to(Device::CPU).to_vector<float>();
        for (std::size_t i = 0; i < p.size(); ++i) {
          v.scored.push_back({loader.examples()[batch->indices[i]].image, {l[3 * i], l[3 * i + 1], l[3 * i + 2]},
                            static_cast<int>(t[i])});
          predicted.push_back(static_cast<int>(p[i]));
          labels.push_back(static_cast<int>(t[i]));
          correct += p[i] == t[i];
        }
        images += b;
      }
      observer_.batch_end(static_cast<std::size_t>(b) + batch->skipped.size(), images ? v.loss_sum / static_cast<double>(images) : 0.0,
                          images ? static_cast<double>(correct) / static_cast<double>(images) : 0.0);
    }
    observer_.phase_end();
    v.evaluation = labels.empty() ? ensemble::Evaluation{} : ensemble::evaluate(labels, predicted);
  }

  const TrainOptions& o_;
  TrainObserver& observer_;
  const std::atomic<bool>& stop_;
  const int epochs_;
  const std::int64_t batch_;
  std::unique_ptr<models::GlerModel> model_;
  std::unique_ptr<Optimizer> optimizer_;
  layers::AngleLoss angle_loss_;  // asoftmax's loss and its λ annealing (checkpointed)
  RunPosition pos_;
  std::set<std::string> reported_;
  std::string skipped_lines_;  // skipped.txt
};

}  // namespace

TrainResult train(const TrainOptions& options, TrainObserver& observer, const std::atomic<bool>& stop) {
  return Run(options, observer, stop).go();
}

}  // namespace gler::train
