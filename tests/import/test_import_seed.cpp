// The seed's own checkpoint format: for every seed model, a full-size file pickled as torch 0.4's
// torch.save(model) wrote it (make_seed_checkpoints.py / seed_pickle.py: whole DataParallel
// modules, the seed's classes, GPU storages, 0.4.0 and 0.4.1 variants, torch.Size sizes, both
// spellings of the fusion models' face CNN), converted by the real gler_import binary and checked
// tensor by tensor against what was written; broken seed-format files fail with one error line.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "tests/import/test_util.h"
#include "weights_import/byte_reader.h"
#include "weights_import/import_source.h"
#include "weights_import/safetensors.h"

using namespace gler::wi;
using namespace gler::wi::test;

namespace {

const std::string kScripts = std::string(GLER_SOURCE_DIR) + "/tests/import";

// The seed-format files, written once per run (about 1.6 GB) and removed at exit.
struct SeedFiles {
  fs::path dir;
  SeedFiles() {
    if (run_command(std::string(GLER_PYTHON) + " -c 'import torch, numpy' 2>/dev/null") != 0) {
      std::fprintf(stderr, "skipping: %s lacks torch/numpy\n", GLER_PYTHON);
      std::exit(77);
    }
    dir = make_temp_dir("seed_import");
    std::string cmd = std::string(GLER_PYTHON) + " -B " + kScripts + "/make_seed_checkpoints.py " + dir.string();
    if (run_command(cmd) != 0) throw std::runtime_error("make_seed_checkpoints.py failed: " + cmd);
  }
  ~SeedFiles() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

const fs::path& seed_dir() {
  static SeedFiles files;
  return files.dir;
}

// Every seed checkpoint (the files with a .meta), by name.
std::vector<fs::path> seed_checkpoints() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(seed_dir()))
    if (e.path().extension() == ".meta") out.push_back(e.path().parent_path() / e.path().stem());
  std::sort(out.begin(), out.end());
  return out;
}

std::map<std::string, std::string> expected_metadata(const fs::path& checkpoint) {
  std::map<std::string, std::string> out;
  std::istringstream lines(read_text(checkpoint.string() + ".meta"));
  for (std::string line; std::getline(lines, line);) {
    auto eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

struct Cli {
  fs::path out = seed_dir() / "cli";
  Cli() { fs::create_directories(out); }
  int run(const std::string& args) const {
    return run_command(std::string(GLER_BIN_DIR) + "/gler_import " + args + " > " + (out / "stdout").string() + " 2> " +
                       (out / "stderr").string());
  }
  std::string stdout_text() const { return read_text(out / "stdout"); }
  std::string stderr_text() const { return read_text(out / "stderr"); }
};

}  // namespace

TEST_CASE("gler_import --list prints every tensor of every seed checkpoint, names as stored") {
  auto files = seed_checkpoints();
  CHECK(files.size() == 12);
  files.push_back(seed_dir() / "mini.pt");
  Cli cli;
  for (const auto& f : files) {
    CAPTURE(f.string());
    CHECK(cli.run("--list " + f.string()) == 0);
    CHECK(cli.stdout_text() == read_text(f.string() + ".list"));
  }
}

TEST_CASE("gler_import converts every seed checkpoint bit-exact, with the metadata gler_infer reads") {
  Cli cli;
  const fs::path dst = cli.out / "model.safetensors";
  for (const auto& f : seed_checkpoints()) {
    CAPTURE(f.string());
    REQUIRE(cli.run(f.string() + " -o " + dst.string()) == 0);
    StateDict sd = read_safetensors(dst.string());
    CHECK(describe(sd, false) == read_text(f.string() + ".manifest"));
    for (const auto& [key, value] : expected_metadata(f)) {
      CAPTURE(key);
      CHECK(sd.metadata[key] == value);
    }
    fs::remove(dst);
  }
}

TEST_CASE("the library reads the seed's format with gler_import's names; a safetensors source keeps its metadata") {
  StateDict mini = read_source((seed_dir() / "mini.pt").string());
  CHECK(describe(mini, true) == read_text(seed_dir() / "mini.pt.manifest"));

  const fs::path f = seed_dir() / "AlignedModel_EmotiW_lr001";
  StateDict sd = import_checkpoint(f.string(), "");
  CHECK(sd.metadata["arch"] == "local");
  CHECK(sd.metadata["seed_compat"] == "1");
  CHECK(import_checkpoint(f.string(), "sphere20a").metadata.count("seed_compat") == 0);  // a bare backbone

  // A converted file converts again unchanged; one that does not say seed_compat is not made the seed's.
  const std::string once = (seed_dir() / "once.safetensors").string();
  write_safetensors(once, sd);
  CHECK(import_checkpoint(once, "").metadata == sd.metadata);
  sd.metadata.erase("seed_compat");
  write_safetensors(once, sd);
  CHECK(import_checkpoint(once, "").metadata == sd.metadata);
  fs::remove(once);
}

TEST_CASE("broken seed-format files fail with `error:` and exit 2") {
  const std::map<std::string, std::string> expect = {
      {"size_str.pt", "tensor size must be a tuple of ints"},
      {"size_float.pt", "tensor size must be a tuple of ints"},
      {"unknown_class.pt", "refusing global 'seedmodels.attention.FaceAttention'"},
      {"system.pt", "refusing global 'os.system'"},
      {"truncated.pt", "remain"}};
  Cli cli;
  for (const auto& [name, needle] : expect) {
    const fs::path src = seed_dir() / "hostile" / name;
    for (const std::string& args : {"--list " + src.string(), src.string() + " -o " + (cli.out / "x").string()}) {
      CAPTURE(args);
      CHECK(cli.run(args) == 2);
      std::string msg = cli.stderr_text();
      CAPTURE(msg);
      CHECK(msg.rfind("error: ", 0) == 0);
      CHECK(msg.find(needle) != std::string::npos);
      CHECK(std::count(msg.begin(), msg.end(), '\n') == 1);
    }
  }
  CHECK(!fs::exists(cli.out / "x"));
}

TEST_CASE("seed-format files cut short anywhere fail cleanly") {
  // The small file at every 1/64th; a full-size one inside its pickle, its key list and its data.
  auto mini = read_file_bytes((seed_dir() / "mini.pt").string());
  for (int k = 0; k < 64; ++k) {
    CAPTURE(k);
    CHECK_THROWS_AS(read_source_bytes(mini.data(), mini.size() * static_cast<std::size_t>(k) / 64, "mini.pt"),
                    gler::Error);
  }
  auto full = read_file_bytes((seed_dir() / "AlignedModel_EmotiW_lr01_Softmax").string());
  for (std::size_t n : {std::size_t{3000}, std::size_t{60000}, full.size() / 2, full.size() - 1}) {
    CAPTURE(n);
    CHECK_THROWS_AS(read_source_bytes(full.data(), n, "AlignedModel_EmotiW_lr01_Softmax"), gler::Error);
  }
}
