// gler_train: trains one of the paper's models from a config (train/trainer). Contract: docs/CLI.md.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

#include "apps/cli/cli.h"
#include "apps/cli/progress.h"
#include "core/cpu/threads.h"
#include "core/error.h"
#include "io/json.h"
#include "train/trainer/trainer.h"

namespace {

const char* kUsage = R"(gler_train --config CONFIG.json --data DATASET_DIR --out RUN_DIR [--resume] [--epochs N] [--batch N]
           [--full-dataset] [--seed S] [--seed-compat] [--init-dir DIR | --no-init] [--max-steps N]
           [--device cpu|cuda[:N]] [--threads N] [--workers N] [--mtcnn-weights FILE] [--progress | --no-progress]

Trains the model CONFIG describes (configs/ holds one per model of the paper) on an EmotiW-layout
dataset (the seed's, or gler_synth's) and writes under RUN_DIR:
  best.safetensors        the model of the best validation accuracy (what gler_infer --model reads)
  checkpoint.safetensors  model, optimiser and where the run stands, after every epoch (--resume)
  log.jsonl, curves.svg   per-epoch loss, accuracy and learning rate, and their plot
  confusion.json          the best epoch's validation confusion matrix
  config.json             the run's settings

--config FILE        the model, init, optimiser, schedule, epochs, batch, loss (JSON)
--data DIR           the dataset: emotiw/, val_list, test_list and the face cache gler_faces writes
--out DIR            the run folder (created); it must not hold a run unless --resume
--resume             continue the run in --out where it stopped (same next batch, same numbers);
                     settings not given are the run's
--epochs N, --batch N  override the config's (the FullDataset epochs with --full-dataset)
--full-dataset       train on train + VAL and select on EVAL (the seed's FullDataset)
--seed S             seed of the init, the order, the augmentation and dropout (default 0)
--seed-compat        train with the seed's semantics (SEED_SPEC §4.11, §8) whatever the config says
--init-dir DIR       where the config's init files are (default: weights)
--no-init            start from the seed's random init, not the config's init files
--max-steps N        stop after N optimiser steps (checkpointed; a smoke test)
--device DEV         cpu, cuda or cuda:N (default: cuda:0 when present, else cpu)
--threads N          CPU threads for the model (default: all)
--workers N          data-loading threads (default 2)
--mtcnn-weights FILE  MTCNN weights for images the face cache lacks (default: the bundled ones)
--progress, --no-progress  draw the progress bar or not (default: when stderr is a terminal)

Ctrl-C checkpoints the run and exits with status 130; --resume continues it.
Exit status: 0 done (or --max-steps reached), 2 bad arguments, data, config or a failed run
(a NaN loss among them), 130 interrupted.
)";

std::atomic<bool> g_stop{false};

extern "C" void on_interrupt(int) {
  g_stop = true;
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends at once
}

std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * fraction);
  return buf;
}
std::string fixed(double x, const char* format = "%.4f") {
  char buf[48];
  std::snprintf(buf, sizeof buf, format, x);
  return buf;
}

class CliObserver : public gler::train::TrainObserver {
 public:
  explicit CliObserver(bool draw) : draw_(draw) {}
  void phase_begin(const std::string& phase, std::size_t images) override {
    bar_.emplace(images, phase + ": images", "img/s", std::vector<std::string>{}, draw_, std::cerr);
  }
  void batch_end(std::size_t images, double loss, double accuracy) override {
    if (bar_) bar_->advance_by(images, "loss " + fixed(loss) + "  acc " + percent(accuracy));
  }
  void phase_end() override {
    if (bar_) bar_->finish();
    bar_.reset();
  }
  void epoch_end(const gler::train::EpochRecord& r) override {
    print("epoch " + std::to_string(r.epoch) + "  lr " + fixed(r.lr, "%.3g") + "  train loss " + fixed(r.train_loss) +
          " acc " + percent(r.train_accuracy) + "  val loss " + fixed(r.val_loss) + " acc " + percent(r.val_accuracy) +
          "  " + gler::cli::format_duration(r.seconds) + (r.best ? "  best" : ""));
  }
  void message(const std::string& line) override { print(line); }

 private:
  void print(const std::string& line) {
    if (bar_)
      bar_->print_line(line);
    else
      std::cerr << line << '\n';
  }
  bool draw_;
  std::optional<gler::cli::ProgressBar> bar_;
};

int run(int argc, char** argv) {
  using namespace gler;
  namespace fs = std::filesystem;
  const cli::Args args(argc, argv,
                       {"--config", "--data", "--out", "--epochs", "--batch", "--seed", "--init-dir", "--max-steps",
                        "--device", "--threads", "--workers", "--mtcnn-weights"},
                       {"--resume", "--full-dataset", "--seed-compat", "--no-init", "--progress", "--no-progress"});
  GLER_CHECK(args.positional().empty(), "unexpected argument '" << args.positional().front() << "'");
  train::TrainOptions o;
  o.data = args.require("--data");
  o.out = args.require("--out");
  o.resume = args.has("--resume");

  // --resume: what is not given again is the run's (config.json, written when it started).
  std::optional<json::Value> recorded;
  if (o.resume && fs::exists(o.out / "config.json")) recorded = json::parse_file((o.out / "config.json").string());
  if (const auto path = args.get("--config")) {
    o.config = train::read_train_config(*path);
  } else {
    GLER_CHECK(recorded, "--config is required (or --resume a run that has its config.json)");
    o.config = train::parse_train_config(recorded->at("config"), "run");
  }
  if (args.has("--seed-compat")) o.config.model.seed_compat = true;
  o.full_dataset = args.has("--full-dataset") || (recorded && recorded->at("full_dataset").as_bool());
  // A given option must be in range; an absent one keeps `fallback` (0: the config's).
  const auto int_option = [&](const char* name, long long least, long long most, long long fallback) {
    if (!args.has(name)) return fallback;
    const long long v = args.get_int(name, fallback);
    GLER_CHECK(v >= least && v <= most, name << " must be an integer from " << least << " to " << most << ", got " << v);
    return v;
  };
  o.epochs = static_cast<int>(int_option("--epochs", 1, 100000, recorded ? recorded->at("epochs").as_int() : 0));
  o.batch = int_option("--batch", 1, 100000, recorded ? recorded->at("batch").as_int() : 0);
  o.max_steps = int_option("--max-steps", 1, 1LL << 40, 0);
  o.workers = static_cast<int>(int_option("--workers", 0, 64, 2));
  {
    const std::string text = args.get("--seed", recorded ? recorded->at("seed").as_string() : "0");
    GLER_CHECK(!text.empty() && text.size() <= 20 && text.find_first_not_of("0123456789") == std::string::npos,
               "--seed must be a non-negative integer, got '" << text << "'");
    try {
      o.seed = std::stoull(text);
    } catch (const std::exception&) {
      GLER_FAIL("--seed must be below 2^64, got '" << text << "'");
    }
  }
  o.no_init = args.has("--no-init");
  GLER_CHECK(!(o.no_init && args.has("--init-dir")), "--init-dir and --no-init exclude each other");
  o.init_dir = args.get("--init-dir", "weights");
  o.device = cli::device_option(args);
  if (args.has("--threads")) set_cpu_threads(static_cast<int>(int_option("--threads", 1, 1024, 1)));
  o.mtcnn_weights = args.get("--mtcnn-weights", "");

  CliObserver observer(cli::progress_wanted(args.has("--progress"), args.has("--no-progress")));
  std::signal(SIGINT, on_interrupt);
  const train::TrainResult r = train::train(o, observer, g_stop);
  std::signal(SIGINT, SIG_DFL);

  const std::string best = r.best_epoch >= 0 ? "best epoch " + std::to_string(r.best_epoch + 1) + ", val accuracy " +
                                                   percent(r.best_accuracy) + ": " + (o.out / "best.safetensors").string()
                                             : "no best model yet";
  switch (r.status) {
    case train::TrainStatus::finished:
      std::cerr << "gler_train: " << o.config.name << ", " << r.epochs_done << " epochs, " << r.steps << " steps; " << best << '\n';
      return 0;
    case train::TrainStatus::step_limit:
      std::cerr << "gler_train: stopped after " << r.steps << " steps (--max-steps); " << best
                << "; --resume continues\n";
      return 0;
    case train::TrainStatus::interrupted:
      std::cerr << "gler_train: interrupted after " << r.steps << " steps; checkpoint "
                << (o.out / "checkpoint.safetensors").string() << "; --resume continues\n";
      return 130;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return gler::cli::run_main(argc, argv, kUsage, run); }
