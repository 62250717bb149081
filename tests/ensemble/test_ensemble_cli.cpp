// gler_ensemble end to end: the notebooks' numbers as the CLI prints them, gler_infer JSON inputs,
// predictions/submission files, and `error:` + exit 2 on bad input.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "io/json.h"
#include "tests/support/run_cli.h"
#include "train/ensemble/model_outputs.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using namespace gler::ensemble;

namespace {

const std::string kDir = std::string(GLER_SOURCE_DIR) + "/data/model_outputs/";
const std::string kA = kDir + "fourteen_models_output_data.npz";
const std::string kF = kDir + "fourteen_fulltrained_models_output_data.npz";
const std::string kTA = kDir + "test_data_fourteen_models_outputs.npz";

const gler::test::TempDir kScratch("gler_ensemble_cli");
const fs::path& kTmp = kScratch.path();

using Run = gler::test::CliRun;

Run ensemble(const std::string& args) { return gler::test::run_cli(std::string(GLER_BIN_DIR) + "/gler_ensemble " + args); }

void check_error(const std::string& args, const std::string& message) {
  CAPTURE(args);
  const Run r = ensemble(args);
  CAPTURE(r.out);
  CHECK(r.status == 2);
  CHECK(r.has("error: "));
  CHECK(r.has(message));
}

// One gler_infer JSON file per model of `d`, images named DIR/img_<i>.jpg (or the npz's names).
std::string write_infer_jsons(const SplitOutputs& d, const std::string& tag) {
  std::string list;
  for (std::size_t m = 0; m < d.num_models(); ++m) {
    gler::json::Array items;
    for (std::size_t i = 0; i < d.num_images(); ++i) {
      gler::json::Value item;
      item.set("image", tag + "/" + (d.images.empty() ? "img_" + std::to_string(i) : d.images[i]) + ".jpg");
      gler::json::Array logits;
      for (int c = 0; c < 3; ++c) logits.emplace_back(static_cast<double>(d.logits[m][i * 3 + c]));
      item.set("logits", std::move(logits));
      items.emplace_back(std::move(item));
    }
    const fs::path path = kTmp / (tag + "_m" + std::to_string(d.model_ids[m]) + ".json");
    gler::json::write_file(path.string(), gler::json::Value(std::move(items)), -1);
    if (!list.empty()) list += ',';
    list += path.string();
  }
  return list;
}

// image,label by file stem (the JSON files name the images by path: exercises stem matching).
std::string write_labels(const SplitOutputs& d, const std::string& tag) {
  const fs::path path = kTmp / (tag + "_labels.csv");
  std::ofstream out(path);
  out << "image,label\n";
  for (std::size_t i = 0; i < d.num_images(); ++i) out << "img_" << i << "," << kClassNames[d.labels[i]] << "\n";
  return path.string();
}

// A stored (uncompressed) .npz, as np.savez writes it, for malformed-input cases.
std::string npy(const std::string& descr, const std::string& shape, const std::string& data) {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY\x01";
  out += '\0';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  return out + header + data;
}

void write_npz(const fs::path& path, const std::map<std::string, std::string>& members) {
  std::string body, central;
  auto u16 = [](std::string& s, unsigned v) { s += static_cast<char>(v & 0xff), s += static_cast<char>(v >> 8 & 0xff); };
  auto u32 = [&](std::string& s, std::uint32_t v) { u16(s, v & 0xffff), u16(s, v >> 16); };
  for (const auto& [name, data] : members) {
    const std::string file = name + ".npy";
    const auto crc = static_cast<std::uint32_t>(::crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
    const auto offset = static_cast<std::uint32_t>(body.size());
    std::string local = "PK\x03\x04";
    u16(local, 20), u16(local, 0), u16(local, 0), u16(local, 0), u16(local, 0);
    u32(local, crc), u32(local, static_cast<std::uint32_t>(data.size())), u32(local, static_cast<std::uint32_t>(data.size()));
    u16(local, static_cast<unsigned>(file.size())), u16(local, 0);
    body += local + file + data;
    std::string cd = "PK\x01\x02";
    u16(cd, 20), u16(cd, 20), u16(cd, 0), u16(cd, 0), u16(cd, 0), u16(cd, 0);
    u32(cd, crc), u32(cd, static_cast<std::uint32_t>(data.size())), u32(cd, static_cast<std::uint32_t>(data.size()));
    u16(cd, static_cast<unsigned>(file.size())), u16(cd, 0), u16(cd, 0), u16(cd, 0), u16(cd, 0), u32(cd, 0), u32(cd, offset);
    central += cd + file;
  }
  std::string end = "PK\x05\x06";
  u16(end, 0), u16(end, 0), u16(end, static_cast<unsigned>(members.size())), u16(end, static_cast<unsigned>(members.size()));
  u32(end, static_cast<std::uint32_t>(central.size())), u32(end, static_cast<std::uint32_t>(body.size())), u16(end, 0);
  std::ofstream(path, std::ios::binary) << body << central << end;
}

std::string floats(std::size_t n) { return std::string(n * 4, '\0'); }
std::string int64s(std::size_t n) { return std::string(n * 8, '\0'); }

}  // namespace

TEST_CASE("hand-picked weights: the TrainDataset notebook's three printed numbers") {
  const Run r = ensemble("--outputs " + kA + " --mode weighted --models 1,2,3,4,5,6,7,8 --weights -1,5,10,10,1,5,2.5,5 --split train,valid,test");
  CAPTURE(r.out);
  CHECK(r.status == 0);
  CHECK(r.has("accuracy: 0.941578303426\n"));
  CHECK(r.has("accuracy: 0.774019754565\n"));
  CHECK(r.has("accuracy: 0.787\n"));
  CHECK(r.has("  Negative   2565   168    23\n  Neutral     149  2899    29\n  Positive     72   132  3771\n"));
  CHECK(r.has("  Negative    200    61    17\n  Neutral      44   245    29\n  Positive     20    42   342\n"));
}

TEST_CASE("equal-weight softmax of the 14 full-trained models: 0.806") {
  const Run r = ensemble("--outputs " + kF + " --mode mean --softmax --split test");
  CAPTURE(r.out);
  CHECK(r.status == 0);
  CHECK(r.has("accuracy: 0.806\n"));
  CHECK(ensemble("--outputs " + kF + " --mode weighted --softmax --weights 1,1,1,1,1,1,1,1,1,1,1,1,1,1 --split test").has("accuracy: 0.806\n"));
  CHECK(ensemble("--outputs " + kA + " --mode vote --split test").has("accuracy: 0.781\n"));
}

TEST_CASE("the SVM notebook: fit, percentages, save, load, submission") {
  const std::string svm = (kTmp / "svm.json").string();
  const Run r = ensemble("--outputs " + kA + " --mode svm --C 0.00009 --train-split train --eval-split train,valid,test --percent --save-svm " + svm);
  CAPTURE(r.out);
  CHECK(r.status == 0);
  CHECK(r.has("support vectors per class: 1998 2157 1732\n"));
  CHECK(r.has("accuracy: 99.3576672104\n"));
  CHECK(r.has("accuracy: 77.4019754565\n"));
  CHECK(r.has("accuracy: 79.5\n"));

  const fs::path csv = kTmp / "svm_predictions.csv", sub = kTmp / "submission";
  const Run t = ensemble("--outputs " + kTA + " --mode svm --load-svm " + svm + " --split test --predictions " + csv.string() +
                         " --submission-dir " + sub.string());
  CAPTURE(t.out);
  CHECK(t.status == 0);
  CHECK(t.has("unlabelled; predicted: Negative 843 Neutral 928 Positive 1240\n"));

  std::map<std::string, std::string> ref;
  {
    std::ifstream in(kDir + "test3011_predictions.csv");
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) ref[line.substr(0, line.find(','))] = line.substr(line.rfind(',') + 1);
  }
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);
  CHECK(line == "image,label,predicted,predicted_name");
  std::size_t rows = 0, same = 0, files_ok = 0;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string image, label, predicted, name;
    std::getline(ss, image, ',');
    std::getline(ss, label, ',');
    std::getline(ss, predicted, ',');
    std::getline(ss, name, ',');
    ++rows;
    same += ref[image] == predicted;
    files_ok += gler::test::slurp(sub / (image + ".txt")) == kClassNames[std::stoi(predicted)];
  }
  CHECK(rows == 3011);
  CHECK(same == 3011);
  CHECK(files_ok == 3011);
  CHECK(gler::test::slurp(sub / "test_1.txt") == "Positive");  // no newline, as the seed wrote it

  // The same stacker on the challenge images given as gler_infer JSON files.
  const std::string inputs = write_infer_jsons(load_npz_split(kTA, "test"), "ta");
  const Run j = ensemble("--inputs " + inputs + " --mode svm --load-svm " + svm);
  CAPTURE(j.out);
  CHECK(j.has("unlabelled; predicted: Negative 843 Neutral 928 Positive 1240\n"));
}

TEST_CASE("--grid: stratified 5-fold CV on valid picks C = 0.003, then 0.793 on test (README 3d)") {
  const Run r = ensemble("--outputs " + kA + " --mode svm --train-split valid --eval-split test --standardize --grid --C-grid 0.001,0.003");
  CAPTURE(r.out);
  CHECK(r.status == 0);
  CHECK(r.has("  0.001       0.775511756756  "));
  CHECK(r.has("best: C=0.003 (cv accuracy 0.778803379788)"));
  CHECK(r.has("accuracy: 0.793\n"));
}

TEST_CASE("gler_infer JSON inputs ensemble like the npz") {
  const SplitOutputs test = select_models(load_npz_split(kA, "test"), {1, 2, 3, 4, 5, 6, 7, 8});
  const std::string inputs = write_infer_jsons(test, "a_test"), labels = write_labels(test, "a_test");
  const fs::path csv = kTmp / "json_predictions.csv";
  const Run r = ensemble("--inputs " + inputs + " --labels " + labels + " --mode weighted --weights -1,5,10,10,1,5,2.5,5 --predictions " + csv.string());
  CAPTURE(r.out);
  CHECK(r.status == 0);
  CHECK(r.has("accuracy: 0.787\n"));
  std::ifstream in(csv);
  std::string header, first;
  std::getline(in, header);
  std::getline(in, first);
  CHECK(first.rfind("a_test/img_0.jpg," + std::to_string(test.labels[0]) + ",", 0) == 0);

  // SVM stacking trained on one JSON set (valid), evaluated on another (test).
  const SplitOutputs valid = load_npz_split(kA, "valid"), test14 = load_npz_split(kA, "test");
  const Run s = ensemble("--train-inputs " + write_infer_jsons(valid, "a_valid") + " --train-labels " + write_labels(valid, "a_valid") +
                         " --inputs " + write_infer_jsons(test14, "a_test14") + " --labels " + write_labels(test14, "a_test14") +
                         " --mode svm --standardize --C 0.003");
  CAPTURE(s.out);
  CHECK(s.status == 0);
  CHECK(s.has("accuracy: 0.793\n"));
}

TEST_CASE("bad input: `error:` and exit status 2") {
  check_error("--outputs " + kA + " --mode vote --split eval", "no arrays output_eval_model<k>");
  check_error("--outputs " + kA + " --mode vote --models 1,15", "has no model 15");
  check_error("--outputs " + kDir + "README.md --mode vote", "README.md");
  check_error("--outputs " + (kTmp / "missing.npz").string() + " --mode vote", "missing.npz");
  check_error("--outputs " + kA + " --mode weighted --weights 1,2 --split test", "2 weights for 14 models");
  check_error("--outputs " + kA + " --mode average", "unknown --mode");
  check_error("--outputs " + kA, "missing required option --mode");
  check_error("--outputs " + kA + " --mode vote --bogus", "unknown option --bogus");
  check_error("--outputs " + kA + " --mode vote --C 1", "--C applies to --mode svm");
  check_error("--outputs " + kTA + " --mode svm --train-split test --C 1", "has no labels");

  const fs::path lengths = kTmp / "lengths.npz";
  write_npz(lengths, {{"output_test_model1", npy("<f4", "(3, 3)", floats(9))},
                      {"output_test_model2", npy("<f4", "(4, 3)", floats(12))},
                      {"label_test", npy("<i8", "(3,)", int64s(3))}});
  check_error("--outputs " + lengths.string() + " --mode vote", "mismatched lengths");
  const fs::path labels = kTmp / "labels.npz";
  write_npz(labels, {{"output_test_model1", npy("<f4", "(3, 3)", floats(9))}, {"label_test", npy("<i8", "(2,)", int64s(2))}});
  check_error("--outputs " + labels.string() + " --mode vote", "mismatched lengths");
  const fs::path shape = kTmp / "shape.npz";
  write_npz(shape, {{"output_test_model1", npy("<f4", "(3, 2)", floats(6))}});
  check_error("--outputs " + shape.string() + " --mode vote", "expected (N, 3)");
  // A well-formed file still works (all-zero scores: every prediction is class 0).
  const fs::path ok = kTmp / "ok.npz";
  write_npz(ok, {{"output_test_model1", npy("<f4", "(3, 3)", floats(9))}, {"label_test", npy("<i8", "(3,)", int64s(3))}});
  CHECK(ensemble("--outputs " + ok.string() + " --mode vote").has("accuracy: 1\n"));

  const fs::path a = kTmp / "a.json", b = kTmp / "b.json", bad = kTmp / "bad.json";
  std::ofstream(a) << R"([{"image": "x.jpg", "logits": [1, 2, 3]}, {"image": "y.jpg", "logits": [3, 2, 1]}])";
  std::ofstream(b) << R"([{"image": "x.jpg", "logits": [1, 2, 3]}])";
  std::ofstream(bad) << R"([{"image": "x.jpg", "logits": [1, 2]}])";
  check_error("--inputs " + a.string() + "," + b.string() + " --mode vote", "mismatched lengths");
  check_error("--inputs " + bad.string() + " --mode vote", "\"logits\" has 2 values");
  check_error("--inputs " + kDir + "README.md --mode vote", "json:");

  const Run help = ensemble("--help");
  CHECK(help.status == 0);
  CHECK(help.has("--submission-dir"));
}
