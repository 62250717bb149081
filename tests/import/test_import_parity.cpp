// Import parity: checkpoints written by python3-torch (state dicts and whole modules, legacy and
// zip, with and without DataParallel, full-size DenseNet-161 and sphere20a) and the real MTCNN
// weights read back bit-exact; hostile and truncated files fail cleanly; the gler_import CLI.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>

#include "core/error.h"
#include "tests/import/test_util.h"
#include "weights_import/byte_reader.h"
#include "weights_import/import_source.h"
#include "weights_import/npy.h"
#include "weights_import/safetensors.h"

using namespace gler::wi;
using namespace gler::wi::test;

namespace {

const std::string kScripts = std::string(GLER_SOURCE_DIR) + "/tests/import";
const std::string kBundledMtcnn = std::string(GLER_SOURCE_DIR) + "/data/mtcnn/mtcnn.safetensors";
const std::string kSeedMtcnn = std::string(GLER_SHARED_DIR) + "/data/mtcnn";

// The reference files, made once per run and removed at exit.
struct References {
  fs::path dir;
  References() {
    if (run_command(std::string(GLER_PYTHON) + " -c 'import torch, torchvision, numpy' 2>/dev/null") != 0) {
      std::fprintf(stderr, "skipping: %s lacks torch/torchvision/numpy\n", GLER_PYTHON);
      std::exit(77);
    }
    dir = make_temp_dir("import");
    std::string cmd = std::string(GLER_PYTHON) + " -B " + kScripts + "/make_checkpoints.py " + dir.string() +
                      " --full --mtcnn " + kBundledMtcnn;
    if (run_command(cmd) != 0) throw std::runtime_error("make_checkpoints.py failed: " + cmd);
  }
  ~References() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

const fs::path& refs() {
  static References r;
  return r.dir;
}

std::vector<fs::path> files_with_manifest() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(refs()))
    if (e.path().extension() == ".manifest" && e.path().stem() != "mtcnn") out.push_back(e.path().parent_path() / e.path().stem());
  std::sort(out.begin(), out.end());
  return out;
}

// The bundled weights written back in the seed's .npy format by make_checkpoints.py.
std::string mtcnn_npy_dir() { return (refs() / "mtcnn").string(); }

std::string cli() { return std::string(GLER_BIN_DIR) + "/gler_import"; }

}  // namespace

TEST_CASE("every reference checkpoint reads back bit-exact, in state-dict order") {
  auto files = files_with_manifest();
  CHECK(files.size() == 17);
  for (const auto& f : files) {
    CAPTURE(f.string());
    StateDict sd = read_source(f.string());
    CHECK(describe(sd, true) == read_text(f.string() + ".manifest"));
  }
}

TEST_CASE("the real MTCNN weights in the seed's .npy format match NumPy's reading") {
  StateDict sd = read_source(mtcnn_npy_dir());
  CHECK(sd.entries.size() == 50);
  CHECK(describe(sd, false) == read_text(refs() / "mtcnn.manifest"));
  CHECK(describe(sd, false) == describe(read_source(kBundledMtcnn), false));
  StateDict one = read_source(mtcnn_npy_dir() + "/rnet.npy");
  CHECK(one.has("rnet.features.conv4.weight"));
  CHECK(one.find("rnet.features.conv4.weight")->shape == std::vector<std::int64_t>{128, 576});
}

TEST_CASE("the bundled MTCNN weights are the seed's .npy files, bit for bit") {
  if (!fs::exists(kSeedMtcnn + "/pnet.npy")) {
    std::printf("skipped: %s not found\n", (kSeedMtcnn + "/pnet.npy").c_str());
    return;
  }
  StateDict seed = read_source(kSeedMtcnn), bundled = read_source(kBundledMtcnn);
  REQUIRE(describe(seed, false) == describe(bundled, false));
  for (const auto& [name, t] : seed.entries) {
    CAPTURE(name);
    CHECK(t.data == bundled.find(name)->data);
  }
}

TEST_CASE("imports infer the arch and write safetensors that Python reads back exactly") {
  struct Case {
    std::string src, arch;
    bool write;
  };
  std::string pairs;  // checked by one Python run (importing torch takes seconds)
  // Every full-size file is imported; the zip/old-names DenseNet, the legacy whole-module
  // sphere20a and MTCNN are also written and checked by Python (the others only differ in container).
  for (const Case& c : {Case{(refs() / "densenet161_dp_module_legacy.pt").string(), "global", false},
                        Case{(refs() / "densenet161_old_names_sd_zip.pt").string(), "global", true},
                        Case{(refs() / "sphere20a_dp_module_legacy.pt").string(), "local", true},
                        Case{(refs() / "sphere20a_sd_zip.pt").string(), "local", false}, Case{mtcnn_npy_dir(), "mtcnn", true}}) {
    CAPTURE(c.src);
    StateDict sd = import_checkpoint(c.src, "");
    CHECK(sd.metadata["arch"] == c.arch);
    if (!c.write) continue;
    std::string dst = (refs() / (fs::path(c.src).filename().string() + ".safetensors")).string();
    write_safetensors(dst, sd);
    StateDict back = read_safetensors(dst);
    CHECK(describe(back, false) == describe(sd, false));
    CHECK(back.metadata == sd.metadata);
    pairs += " " + dst + " " + c.src;
  }
  CHECK(run_command(std::string(GLER_PYTHON) + " -B " + kScripts + "/check_safetensors.py" + pairs + " > /dev/null") == 0);
  StateDict d = import_checkpoint((refs() / "densenet161_old_names_sd_zip.pt").string(), "densenet161");
  CHECK(d.metadata["num_classes"] == "3");
  CHECK(d.has("features.denseblock1.denselayer1.norm1.weight"));
  CHECK_THROWS_AS(import_checkpoint((refs() / "sphere20a_sd_zip.pt").string(), "densenet121"), gler::Error);
}

TEST_CASE(".npy and .npz values") {
  NdArray plain = read_npy((refs() / "plain.npy").string());
  REQUIRE(plain.data.size() == 48);
  float v[12];
  std::memcpy(v, plain.data.data(), 48);
  for (int i = 0; i < 12; ++i) CHECK(v[i] == static_cast<float>(i));
  NdArray be = read_npy((refs() / "bigendian.npy").string());
  CHECK(be.descr == "<f8");
  double d[6];
  std::memcpy(d, be.data.data(), 48);
  CHECK(d[5] == 5.0);
  auto stored = read_npz((refs() / "stored.npz").string());
  CHECK(stored.at("s").strings == std::vector<std::string>{"ab", "cde"});
  CHECK(stored.at("b").descr == "<i8");
  auto deflated = read_npz((refs() / "deflated.npz").string());
  CHECK(deflated.at("big").shape == std::vector<std::int64_t>{300, 200});
  CHECK(deflated.at("a").data == plain.data);
  StateDict sd = read_source((refs() / "stored.npz").string());
  CHECK(sd.entries.size() == 2);  // the string array is not a tensor
}

TEST_CASE("hostile files are refused with a clear error") {
  const std::map<std::string, std::string> expect = {
      {"system_legacy.pt", "system'"},       {"system_zip.pt", "system'"},
      {"system.npy", "system'"},             {"eval_zip.pt", "builtins.eval"},
      {"deep_lists.npy", "list"},            {"deep_dicts.npy", "nested deeper"},
      {"huge_tensor_zip.pt", "larger than"}, {"huge_unicode.npy", "truncated"},
      {"huge_npy.npy", "overflow"},          {"huge_header.safetensors", "too large"},
      {"huge_shape.safetensors", "bytes of data"}, {"huge_storage_legacy.pt", "declares"},
      {"overlap_zip.pt", "overlap"},         {"outside_zip.pt", "outside"},
      {"bomb.npz", "impossible"},            {"garbage.pt", "unrecognised"},
      {"empty.pt", "unrecognised"}};
  for (const auto& [name, needle] : expect) {
    CAPTURE(name);
    std::string msg = error_of([&] { read_source((refs() / "hostile" / name).string()); });
    CAPTURE(msg);
    CHECK(msg.find(needle) != std::string::npos);
  }
  CHECK(!fs::exists(refs() / "hostile" / "pwned"));
}

TEST_CASE("files truncated at every 1/16th of their length fail cleanly") {
  std::vector<fs::path> sources = files_with_manifest();
  sources.erase(std::remove_if(sources.begin(), sources.end(),
                               [](const fs::path& p) { return fs::file_size(p) > (4u << 20); }),
                sources.end());
  for (const char* extra : {"plain.npy", "stored.npz", "deflated.npz", "bigendian.npy"}) sources.push_back(refs() / extra);
  sources.push_back(mtcnn_npy_dir() + "/onet.npy");
  fs::path cut = refs() / "truncated";
  fs::create_directories(cut);
  for (const auto& src : sources) {
    auto bytes = read_file_bytes(src.string());
    for (int k = 0; k < 16; ++k) {
      CAPTURE(src.string());
      CAPTURE(k);
      fs::path dst = cut / src.filename();
      std::FILE* f = std::fopen(dst.c_str(), "wb");
      REQUIRE(f);
      std::fwrite(bytes.data(), 1, bytes.size() * static_cast<std::size_t>(k) / 16, f);
      std::fclose(f);
      CHECK_THROWS_AS(read_source(dst.string()), gler::Error);
    }
  }
}

TEST_CASE("gler_import CLI: convert, --list, and exit 2 with one error line") {
  fs::path out = refs() / "cli";
  fs::create_directories(out);
  std::string err = (out / "stderr").string(), std_out = (out / "stdout").string();
  auto run = [&](const std::string& args) {
    return run_command(cli() + " " + args + " > " + std_out + " 2> " + err);
  };
  CHECK(run("--help") == 0);
  CHECK(read_text(std_out).find("gler_import SRC") != std::string::npos);

  CHECK(run(mtcnn_npy_dir() + " -o " + (out / "mtcnn.safetensors").string()) == 0);
  CHECK(run("--list " + (out / "mtcnn.safetensors").string()) == 0);
  CHECK(read_text(std_out).find("onet.conv6_3.weight F32 [10,256]\n") != std::string::npos);
  CHECK(run((refs() / "sphere20a_dp_module_legacy.pt").string() + " --arch local -o " + (out / "l.safetensors").string()) == 0);
  CHECK(read_safetensors((out / "l.safetensors").string()).metadata.at("arch") == "local");
  CHECK(run((out / "l.safetensors").string() + " -o " + (out / "l2.safetensors").string()) == 0);  // arch from metadata
  CHECK(read_text(out / "l.safetensors") == read_text(out / "l2.safetensors"));

  for (const auto& f : files_with_manifest()) {
    if (fs::file_size(f) > (4u << 20)) continue;  // the full-size files are listed by the test above
    CAPTURE(f.string());
    CHECK(run("--list " + f.string()) == 0);
    auto listed = read_text(std_out);
    auto manifest = read_text(f.string() + ".manifest");
    CHECK(std::count(listed.begin(), listed.end(), '\n') == std::count(manifest.begin(), manifest.end(), '\n'));
  }

  std::vector<std::string> failing = {"--list " + (refs() / "hostile").string() + "/system_zip.pt",
                                      (refs() / "hostile").string() + "/system_legacy.pt -o " + (out / "x").string(),
                                      (refs() / "small_sd_zip.pt").string() + " -o " + (out / "x").string(),
                                      (refs() / "small_sd_zip.pt").string(),
                                      mtcnn_npy_dir() + " --arch resnet -o " + (out / "x").string(),
                                      (refs() / "sphere20a_sd_zip.pt").string() + " --arch global -o " + (out / "x").string(),
                                      "--list /nonexistent/file.pt", "--bogus x"};
  for (const auto& e : fs::directory_iterator(refs() / "hostile")) failing.push_back("--list " + e.path().string());
  for (const auto& args : failing) {
    CAPTURE(args);
    CHECK(run(args) == 2);
    std::string msg = read_text(err);
    CHECK(msg.rfind("error: ", 0) == 0);
    CHECK(std::count(msg.begin(), msg.end(), '\n') == 1);
  }
  CHECK(!fs::exists(out / "x"));
  CHECK(!fs::exists(refs() / "hostile" / "pwned"));
}
