// gler_train's CLI: every config in configs/ starts training on a gler_synth dataset (one step,
// from the random init: the pretrained files the configs name are not in the repository); bad
// arguments, configs and run folders exit 2 with one `error:` line; a run killed with SIGKILL
// during an epoch, or stopped with Ctrl-C (SIGINT) in the middle of one, resumes with --resume to
// the very weights and log of an uninterrupted run; a loss that turns NaN stops the run.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "io/json.h"
#include "tests/support/temp_dir.h"
#include "tests/train/cli/train_cli_support.h"
#include "train/report/training_log.h"

namespace fs = std::filesystem;
using namespace gler;

namespace {

const test::TempDir kScratch("gler_train_cli");
const fs::path& kTmp = kScratch.path();

const fs::path& dataset() {
  static const fs::path dir = [] {
    const fs::path d = kTmp / "data";
    test::make_dataset(d, 24, 12, 5);
    return d;
  }();
  return dir;
}

// An EmotiC-layout dataset (SEED_SPEC §5) for the emotic_pretrain config: a few of the synthetic
// photos with valences 1..10, the annotations written by numpy (a test dependency). Empty when
// numpy is missing.
fs::path emotic_dataset() {
  const fs::path root = kTmp / "emotic_data";
  if (fs::exists(root / "emotic" / "val_annotations.npz")) return root;
  fs::create_directories(root / "emotic" / "photos");
  std::string names;
  int k = 0;
  for (const auto& e : fs::recursive_directory_iterator(dataset() / "emotiw" / "train")) {
    if (e.path().extension() != ".jpg" || k == 6) continue;
    const std::string name = "p" + std::to_string(k++) + ".jpg";
    fs::copy_file(e.path(), root / "emotic" / "photos" / name);
    names += (names.empty() ? "'" : ", '") + name + "'";
  }
  const std::string script = "import numpy as np\n"
                             "for split in ('train', 'val'):\n"
                             "    np.savez('" + (root / "emotic").string() + "/' + split + '_annotations.npz', image=np.array([" +
                             names + "]), folder=np.array(['photos'] * 6), valence=np.array([1, 4, 5, 7, 8, 10]))\n";
  std::ofstream(kTmp / "emotic.py") << script;
  if (std::system(("/usr/bin/python3 " + (kTmp / "emotic.py").string() + " 2>/dev/null").c_str()) != 0) return {};
  return root;
}

// configs/<name>.json with `edit` applied, written to the scratch folder.
fs::path edited_config(const std::string& name, const std::function<void(json::Value&)>& edit) {
  json::Value c = json::parse_file(test::config_path(name));
  edit(c);
  const fs::path out = kTmp / (name + "_edited_" + std::to_string(std::rand()) + ".json");
  json::write_file(out.string(), c);
  return out;
}

void set_member(json::Value& object, const std::string& key, json::Value value) {
  for (auto& [k, v] : object.as_object())
    if (k == key) {
      v = std::move(value);
      return;
    }
  object.set(key, std::move(value));
}

// Runs gler_train in a child process; returns its pid.
pid_t spawn_train(const std::vector<std::string>& args) {
  std::vector<std::string> argv{test::tool("gler_train"), "--device", "cpu", "--threads", "2", "--no-progress"};
  argv.insert(argv.end(), args.begin(), args.end());
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    std::vector<char*> c;
    for (std::string& a : argv) c.push_back(a.data());
    c.push_back(nullptr);
    ::execv(c[0], c.data());
    ::_exit(127);
  }
  return pid;
}

// Waits until `done()` holds (polling), at most `seconds`.
bool wait_for(const std::function<bool()>& done, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::size_t log_lines(const fs::path& run) {
  std::ifstream in(run / "log.jsonl");
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) n += !line.empty();
  return n;
}

// The log without its timings (they differ between runs).
std::vector<std::string> log_without_timing(const fs::path& run) {
  std::vector<std::string> out;
  for (train::EpochRecord r : train::read_training_log(run / "log.jsonl")) {
    r.seconds = 0;
    out.push_back(json::dump(train::to_json(r)));
  }
  return out;
}

const std::string kResumeArgs = "--epochs 3 --batch 4 --seed 11 --no-init";

std::vector<std::string> resume_args(const fs::path& run) {
  return {"--config", test::config_path("tiny_local"), "--data", dataset().string(), "--out", run.string(),
          "--epochs", "3", "--batch", "4", "--seed", "11", "--no-init"};
}

const fs::path& uninterrupted_run() {
  static const fs::path run = [] {
    const fs::path r = kTmp / "resume_reference";
    const test::CliRun out = test::train_cli("--config " + test::config_path("tiny_local") + " --data " +
                                             dataset().string() + " --out " + r.string() + " " + kResumeArgs);
    REQUIRE_MESSAGE(out.status == 0, out.out);
    return r;
  }();
  return run;
}

void check_same_run(const fs::path& a, const fs::path& b) {
  CHECK(test::tensor_bytes(a / "checkpoint.safetensors") == test::tensor_bytes(b / "checkpoint.safetensors"));
  CHECK(test::tensor_bytes(a / "best.safetensors") == test::tensor_bytes(b / "best.safetensors"));
  CHECK(log_without_timing(a) == log_without_timing(b));
}

}  // namespace

TEST_CASE("every config in configs/ starts training on a gler_synth dataset, some in the seed's semantics too") {
  std::vector<fs::path> configs;
  for (const auto& e : fs::directory_iterator(std::string(GLER_SOURCE_DIR) + "/configs"))
    if (e.path().extension() == ".json") configs.push_back(e.path());
  std::sort(configs.begin(), configs.end());
  REQUIRE(configs.size() >= 17);  // 11 paper models, EmotiC pretraining, 3 extra ensemble members, 2 tiny ones
  for (const fs::path& config : configs) {
    CAPTURE(config);
    const json::Value* kind = json::parse_file(config.string()).find("dataset");
    fs::path data = dataset();
    if (kind && kind->as_string() == "emotic") {
      data = emotic_dataset();
      if (data.empty()) {
        MESSAGE("skipped: " << config << " (python3-numpy, which writes its EmotiC annotations, not found)");
        continue;
      }
    }
    const fs::path run = kTmp / ("smoke_" + config.stem().string());
    const test::CliRun r = test::train_cli("--config " + config.string() + " --data " + data.string() + " --out " +
                                           run.string() + " --no-init --max-steps 1 --batch 2 --workers 1");
    CHECK_MESSAGE(r.status == 0, r.out);
    CHECK(r.has("stopped after 1 steps"));
    CHECK(fs::exists(run / "checkpoint.safetensors"));
    fs::remove_all(run);  // full-size checkpoints are large
  }
  // The seed's semantics on the paths that differ: the per-face loss over every slot, A's score
  // reshape with detached weights, the frozen DenseNet's BatchNorms in train mode.
  for (const std::string name : {"local", "attention_a", "average"}) {
    CAPTURE(name);
    const fs::path run = kTmp / ("smoke_seed_" + name);
    const test::CliRun r = test::train_cli("--config " + test::config_path(name) + " --data " + dataset().string() +
                                           " --out " + run.string() + " --seed-compat --no-init --max-steps 1 --batch 2 --workers 1");
    CHECK_MESSAGE(r.status == 0, r.out);
    CHECK(r.has("stopped after 1 steps"));
    CHECK(json::parse_file((run / "config.json").string()).at("config").at("seed_compat").as_bool());
    fs::remove_all(run);
  }
}

TEST_CASE("bad arguments, configs and run folders exit 2 with one error line") {
  const std::string data = " --data " + dataset().string();
  struct Case {
    std::string args, message;
  };
  const fs::path unknown_key = edited_config("tiny_local", [](json::Value& c) { c.set("learning_rate", 0.1); });
  const fs::path bad_arch = edited_config("tiny_local", [](json::Value& c) {
    json::Value m;
    m.set("arch", "resnet");
    set_member(c, "model", m);
  });
  const fs::path bad_loss = edited_config("tiny_attention_c", [](json::Value& c) { set_member(c, "loss", "face_ce"); });
  const std::vector<Case> cases{
      {"--data x --out y", "--config"},
      {"--config " + test::config_path("tiny_local") + " --out " + (kTmp / "r0").string(), "--data"},
      {"--config " + (kTmp / "missing.json").string() + data + " --out " + (kTmp / "r1").string(), "missing.json"},
      {"--config " + unknown_key.string() + data + " --out " + (kTmp / "r2").string(), "unknown key config.learning_rate"},
      {"--config " + bad_arch.string() + data + " --out " + (kTmp / "r3").string(), "resnet"},
      {"--config " + bad_loss.string() + data + " --out " + (kTmp / "r4").string(), "local arch only"},
      {"--config " + test::config_path("attention_c") + data + " --out " + (kTmp / "r5").string() + " --init-dir " +
           (kTmp / "no_weights").string(),
       "DenseNet161_EmotiW.safetensors not found"},
      {"--config " + test::config_path("tiny_local") + " --data " + (kTmp / "nowhere").string() + " --out " +
           (kTmp / "r6").string(),
       "nowhere"},
      {"--config " + test::config_path("tiny_local") + data + " --out " + (kTmp / "r7").string() + " --resume",
       "nothing to resume"},
      {"--config " + test::config_path("tiny_local") + data + " --out " + (kTmp / "r8").string() + " --epochs 0",
       "--epochs"},
      {"--config " + test::config_path("tiny_local") + data + " --out " + (kTmp / "r9").string() + " --seed -1",
       "--seed"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.args);
    const test::CliRun r = test::train_cli(c.args);
    CHECK(r.status == 2);
    CHECK(r.has("error: "));
    CHECK_MESSAGE(r.has(c.message), r.out);
  }

  // A folder that holds a run is refused without --resume; --resume refuses other settings and a
  // corrupt checkpoint.
  const fs::path run = uninterrupted_run();
  const std::string again = "--config " + test::config_path("tiny_local") + data + " --out " + run.string() + " ";
  test::CliRun r = test::train_cli(again + kResumeArgs);
  CHECK(r.status == 2);
  CHECK(r.has("already holds a run"));
  r = test::train_cli(again + "--resume --seed 12");
  CHECK(r.status == 2);
  CHECK(r.has("other settings"));
  const fs::path broken = kTmp / "broken_run";
  fs::create_directories(broken);
  fs::copy_file(run / "config.json", broken / "config.json");
  std::ofstream(broken / "checkpoint.safetensors") << "not a checkpoint";
  r = test::train_cli("--data " + dataset().string() + " --out " + broken.string() + " --resume");
  CHECK(r.status == 2);
  CHECK(r.has("cannot resume from"));
}

// Starts the reference run's command in `run`, sends `signal` 0.3 s into its second epoch (after the
// first epoch's checkpoint) and returns the wait status; the run must not have finished.
int interrupt_second_epoch(const fs::path& run, int signal) {
  const pid_t pid = spawn_train(resume_args(run));
  REQUIRE(wait_for([&] { return log_lines(run) >= 1; }, 120));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::kill(pid, signal);
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE_MESSAGE(log_lines(run) < 3, "the run finished before the signal: make the epochs longer");
  return status;
}

void resume_to_the_end(const fs::path& run) {
  const test::CliRun r = test::train_cli("--data " + dataset().string() + " --out " + run.string() + " --resume");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(r.has("resuming at epoch"));
  check_same_run(uninterrupted_run(), run);
}

TEST_CASE("a run killed during an epoch resumes to the uninterrupted run's weights and log") {
  const fs::path run = kTmp / "killed";
  const int status = interrupt_second_epoch(run, SIGKILL);
  CHECK(WIFSIGNALED(status));
  resume_to_the_end(run);
}

TEST_CASE("Ctrl-C in the middle of an epoch checkpoints it there; --resume goes on from the next batch") {
  const fs::path run = kTmp / "interrupted";
  const int status = interrupt_second_epoch(run, SIGINT);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  // The checkpoint is the stopped epoch's (epoch index 1), part of the way through it.
  const json::Value position =
      json::parse(wi::read_safetensors_metadata((run / "checkpoint.safetensors").string()).at("position"));
  CHECK(position.at("epoch").as_int() == 1);
  CHECK(position.at("next_batch").as_int() > 0);
  resume_to_the_end(run);
}

TEST_CASE("a NaN or infinite loss stops the run with exit 2 and leaves the last checkpoint") {
  const fs::path config = edited_config("tiny_local", [](json::Value& c) {
    json::Value opt;
    opt.set("type", "sgd");
    opt.set("lr", 1e30);
    opt.set("momentum", 0.9);
    set_member(c, "optimizer", opt);
  });
  const fs::path run = kTmp / "diverged";
  const test::CliRun r = test::train_cli("--config " + config.string() + " --data " + dataset().string() + " --out " +
                                         run.string() + " --epochs 3 --batch 4 --no-init");
  CHECK(r.status == 2);
  CHECK_MESSAGE(r.has("error: the training loss is"), r.out);
  CHECK(r.has("keeps the last good state"));
  // Whatever epochs finished before are in the checkpoint; the diverged one is not.
  if (fs::exists(run / "checkpoint.safetensors")) CHECK(log_lines(run) >= 1);
}

TEST_CASE("an image that cannot be decoded is skipped, named once in skipped.txt and counted in the log") {
  const fs::path data = kTmp / "data_with_corrupt";
  if (!fs::exists(data)) fs::copy(dataset(), data, fs::copy_options::recursive);
  const fs::path bad = data / "emotiw" / "train" / "Positive" / "pos_1.jpg";
  REQUIRE(fs::exists(bad));
  std::ofstream(bad, std::ios::binary | std::ios::trunc) << "not a jpeg";
  const fs::path run = kTmp / "corrupt_run";
  const test::CliRun r = test::train_cli("--config " + test::config_path("tiny_local") + " --data " + data.string() +
                                         " --out " + run.string() + " --epochs 2 --batch 4 --no-init");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  const std::string listed = test::slurp(run / "skipped.txt");
  CHECK(listed.find(bad.string() + ": ") == 0);
  CHECK(std::count(listed.begin(), listed.end(), '\n') == 1);  // once, though both epochs met it
  for (const train::EpochRecord& e : train::read_training_log(run / "log.jsonl")) {
    CHECK(e.skipped == 1);
    CHECK(e.train_images == 23);
  }
}

TEST_CASE("A-Softmax's lambda counter is checkpointed: stopped at --max-steps and resumed equals one run") {
  const fs::path config = edited_config("tiny_local", [](json::Value& c) {
    json::Value model;
    model.set("arch", "local");
    model.set("local_head", "asoftmax");
    set_member(c, "model", model);
    set_member(c, "loss", "asoftmax");
  });
  const std::string args = "--config " + config.string() + " --data " + dataset().string() + " --epochs 1 --batch 4 --no-init";
  const fs::path whole = kTmp / "asoftmax_whole", parts = kTmp / "asoftmax_parts";
  test::CliRun r = test::train_cli(args + " --out " + whole.string());
  REQUIRE_MESSAGE(r.status == 0, r.out);
  r = test::train_cli(args + " --out " + parts.string() + " --max-steps 2");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  const json::Value position =
      json::parse(wi::read_safetensors_metadata((parts / "checkpoint.safetensors").string()).at("position"));
  CHECK(position.at("angle_iteration").as_int() == 2);
  r = test::train_cli("--data " + dataset().string() + " --out " + parts.string() + " --resume");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(test::tensor_bytes(whole / "checkpoint.safetensors") == test::tensor_bytes(parts / "checkpoint.safetensors"));
  CHECK(log_without_timing(whole) == log_without_timing(parts));
}
