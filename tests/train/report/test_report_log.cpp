// The training log: records survive a write and read (non-finite numbers as null, read back as
// NaN), the file is the documented JSON Lines text, and bad lines are reported by file and line.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "core/error.h"
#include "tests/support/temp_dir.h"
#include "train/report/training_log.h"

using namespace gler;
using namespace gler::train;

namespace {

EpochRecord record(int epoch) {
  EpochRecord r;
  r.epoch = epoch;
  r.lr = 0.01 / epoch;
  r.train_loss = 1.0 / epoch;
  r.train_accuracy = 0.5 + 0.1 * epoch;
  r.val_loss = 1.25 / epoch;
  r.val_accuracy = 0.4 + 0.1 * epoch;
  r.train_images = 3000;
  r.val_images = 700 + epoch;
  r.skipped = epoch - 1;
  r.seconds = 12.5 * epoch;
  r.best = epoch != 2;
  return r;
}

void write(const std::filesystem::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

std::string error_of(const std::filesystem::path& p) {
  try {
    read_training_log(p);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

const char* kLine1 =
    "{\"epoch\":1,\"lr\":0.01,\"train_loss\":1.5,\"train_accuracy\":0.25,\"val_loss\":null,"
    "\"val_accuracy\":0.5,\"train_images\":40,\"val_images\":8,\"skipped\":2,\"seconds\":3.5,\"best\":true}";

}  // namespace

TEST_CASE("a record is written as one compact line in the struct's order, non-finite as null") {
  test::TempDir dir("gler_report_log_text");
  EpochRecord r{1, 0.01, 1.5, 0.25, std::numeric_limits<double>::infinity(), 0.5, 40, 8, 2, 3.5, true};
  write_training_log(dir.path() / "log.jsonl", {r});
  CHECK(test::slurp(dir.path() / "log.jsonl") == std::string(kLine1) + "\n");
}

TEST_CASE("the log round-trips, NaN and Inf coming back as NaN") {
  test::TempDir dir("gler_report_log_round");
  std::vector<EpochRecord> records = {record(1), record(2), record(3)};
  records[1].train_loss = std::numeric_limits<double>::quiet_NaN();
  records[2].val_loss = -std::numeric_limits<double>::infinity();
  records[2].val_accuracy = std::numeric_limits<double>::quiet_NaN();  // e.g. no validation images
  const auto path = dir.path() / "log.jsonl";
  write_training_log(path, records);
  const std::vector<EpochRecord> back = read_training_log(path);
  REQUIRE(back.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    const EpochRecord &a = records[i], &b = back[i];
    CHECK(b.epoch == a.epoch);
    CHECK(b.lr == a.lr);
    CHECK(b.train_accuracy == a.train_accuracy);
    CHECK(b.train_images == a.train_images);
    CHECK(b.val_images == a.val_images);
    CHECK(b.skipped == a.skipped);
    CHECK(b.seconds == a.seconds);
    CHECK(b.best == a.best);
  }
  CHECK(back[0].train_loss == records[0].train_loss);
  CHECK(std::isnan(back[1].train_loss));
  CHECK(back[1].val_loss == records[1].val_loss);
  CHECK(std::isnan(back[2].val_loss));
  CHECK(std::isnan(back[2].val_accuracy));
  CHECK(back[1].val_accuracy == records[1].val_accuracy);
}

TEST_CASE("rewriting the log after each epoch gives the file written once at the end") {
  test::TempDir dir("gler_report_log_rewrite");
  const auto step = dir.path() / "step.jsonl", once = dir.path() / "once.jsonl";
  std::vector<EpochRecord> records;
  for (int e = 1; e <= 3; ++e) {
    records.push_back(record(e));
    write_training_log(step, records);
  }
  write_training_log(once, records);
  CHECK(test::slurp(step) == test::slurp(once));
  CHECK(read_training_log(step).size() == 3);
}

TEST_CASE("an empty log has no records; a missing one is an error naming it") {
  test::TempDir dir("gler_report_log_empty");
  write_training_log(dir.path() / "empty.jsonl", {});
  CHECK(test::slurp(dir.path() / "empty.jsonl").empty());
  CHECK(read_training_log(dir.path() / "empty.jsonl").empty());
  CHECK(error_of(dir.path() / "absent.jsonl").find("absent.jsonl") != std::string::npos);
}

TEST_CASE("a bad line is reported with the file and its line number") {
  test::TempDir dir("gler_report_log_bad");
  const auto p = dir.path() / "bad.jsonl";
  const std::string good = std::string(kLine1) + "\n";
  const std::string line2 = std::string(kLine1).replace(9, 1, "2");  // "epoch":2
  REQUIRE(line2.substr(0, 11) == "{\"epoch\":2,");

  write(p, good + "{\"epoch\":2,\"lr\":0.01\n");  // cut short
  std::string e = error_of(p);
  CHECK(e.find("bad.jsonl") != std::string::npos);
  CHECK(e.find("line 2") != std::string::npos);

  write(p, good + "\n" + line2 + "\n");  // a blank line
  CHECK(error_of(p).find("line 2") != std::string::npos);

  write(p, good + line2 + "\n" + good);  // epoch 1 after epoch 2
  e = error_of(p);
  CHECK(e.find("line 3") != std::string::npos);
  CHECK(e.find("follows epoch 2") != std::string::npos);

  write(p, good + line2);  // no final newline: still a complete file
  CHECK(read_training_log(p).size() == 2);
}

TEST_CASE("a missing field or a wrong type is named") {
  auto error_for = [](const std::string& line) -> std::string {
    try {
      epoch_record_from_json(json::parse(line));
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  std::string no_seconds = kLine1;
  no_seconds.replace(no_seconds.find(",\"seconds\":3.5"), 14, "");
  CHECK(error_for(no_seconds).find("\"seconds\"") != std::string::npos);
  CHECK(error_for(no_seconds).find("missing") != std::string::npos);

  std::string string_lr = kLine1;
  string_lr.replace(string_lr.find("0.01"), 4, "\"0.01\"");
  CHECK(error_for(string_lr).find("\"lr\"") != std::string::npos);

  std::string null_best = kLine1;
  null_best.replace(null_best.find("true"), 4, "null");
  CHECK(error_for(null_best).find("\"best\"") != std::string::npos);

  std::string half_image = kLine1;
  half_image.replace(half_image.find("\"val_images\":8"), 14, "\"val_images\":8.5");
  CHECK(error_for(half_image).find("\"val_images\"") != std::string::npos);

  std::string percent = kLine1;
  percent.replace(percent.find("0.25"), 4, "25");  // a percentage, not a fraction
  CHECK(error_for(percent).find("train_accuracy") != std::string::npos);

  std::string zero_epoch = kLine1;
  zero_epoch.replace(9, 1, "0");
  CHECK(error_for(zero_epoch).find("epoch must be >= 1") != std::string::npos);

  CHECK(error_for("[1]").find("object") != std::string::npos);
}

TEST_CASE("epochs out of order are refused on writing") {
  test::TempDir dir("gler_report_log_order");
  CHECK_THROWS_AS(write_training_log(dir.path() / "log.jsonl", {record(2), record(2)}), Error);
  CHECK_FALSE(std::filesystem::exists(dir.path() / "log.jsonl"));
}
