#include "train/report/confusion.h"

#include <cstdio>

namespace gler::train {
namespace {

using ensemble::kClassNames;
using ensemble::kNumClasses;

std::size_t row_total(const ensemble::Evaluation& e, int c) {
  std::size_t n = 0;
  for (std::size_t p : e.confusion[c]) n += p;
  return n;
}

std::string percent(std::size_t part, std::size_t whole) {
  if (whole == 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
  return buf;
}

}  // namespace

std::string confusion_table(const ensemble::Evaluation& e) {
  std::string out;
  char buf[128];
  std::snprintf(buf, sizeof buf, "%-16s", "true \\ predicted");
  out += buf;
  for (const char* name : kClassNames) {
    std::snprintf(buf, sizeof buf, " %9s", name);
    out += buf;
  }
  out += "    recall\n";
  for (int t = 0; t < kNumClasses; ++t) {
    std::snprintf(buf, sizeof buf, "%-16s", kClassNames[t]);
    out += buf;
    for (std::size_t n : e.confusion[t]) {
      std::snprintf(buf, sizeof buf, " %9zu", n);
      out += buf;
    }
    std::snprintf(buf, sizeof buf, " %9s\n", percent(e.confusion[t][t], row_total(e, t)).c_str());
    out += buf;
  }
  std::snprintf(buf, sizeof buf, "accuracy %s (%zu of %zu)\n", percent(e.correct, e.total).c_str(), e.correct,
                e.total);
  return out + buf;
}

json::Value confusion_json(const ensemble::Evaluation& e) {
  json::Array classes, matrix, recall;
  for (int t = 0; t < kNumClasses; ++t) {
    classes.emplace_back(kClassNames[t]);
    json::Array row;
    for (std::size_t n : e.confusion[t]) row.emplace_back(static_cast<unsigned long>(n));
    matrix.emplace_back(std::move(row));
    recall.emplace_back();  // null: no images of the class
    if (row_total(e, t)) recall.back() = e.recall()[t];
  }
  json::Value accuracy;  // null: no images at all
  if (e.total) accuracy = e.accuracy();
  return json::Object{
      {"classes", std::move(classes)},
      {"matrix", std::move(matrix)},
      {"total", static_cast<unsigned long>(e.total)},
      {"correct", static_cast<unsigned long>(e.correct)},
      {"accuracy", accuracy},
      {"recall", std::move(recall)},
  };
}

}  // namespace gler::train
