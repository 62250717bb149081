#include "train/report/epoch_record.h"

#include <climits>
#include <cmath>
#include <limits>
#include <utility>

#include "core/error.h"

namespace gler::train {
namespace {

void check_range(const EpochRecord& r) {
  GLER_CHECK(r.epoch >= 1, "epoch record: epoch must be >= 1 (1-based), got " << r.epoch);
  for (auto [name, acc] : {std::pair{"train_accuracy", r.train_accuracy}, std::pair{"val_accuracy", r.val_accuracy}})
    GLER_CHECK(std::isnan(acc) || (acc >= 0 && acc <= 1),
               "epoch record " << r.epoch << ": " << name << " must be a fraction in [0, 1], got " << acc);
  for (auto [name, n] : {std::pair{"train_images", r.train_images}, std::pair{"val_images", r.val_images},
                         std::pair{"skipped", r.skipped}})
    GLER_CHECK(n >= 0, "epoch record " << r.epoch << ": " << name << " must be >= 0, got " << n);
}

json::Value number_or_null(double x) { return std::isfinite(x) ? json::Value(x) : json::Value(); }

const json::Value& field(const json::Value& v, const char* name) {
  const json::Value* f = v.find(name);
  GLER_CHECK(f, "epoch record: missing field \"" << name << "\"");
  return *f;
}

double read_number(const json::Value& v, const char* name) {
  const json::Value& f = field(v, name);
  if (f.is_null()) return std::numeric_limits<double>::quiet_NaN();
  GLER_CHECK(f.is_number(), "epoch record: field \"" << name << "\" must be a number or null, got " << f.type_name());
  return f.as_number();
}

long long read_integer(const json::Value& v, const char* name, long long max) {
  const json::Value& f = field(v, name);
  GLER_CHECK(f.is_number(), "epoch record: field \"" << name << "\" must be an integer, got " << f.type_name());
  const double d = f.as_number();
  GLER_CHECK(std::trunc(d) == d && std::fabs(d) <= static_cast<double>(max),
             "epoch record: field \"" << name << "\" must be an integer, got " << d);
  return static_cast<long long>(d);
}

bool read_bool(const json::Value& v, const char* name) {
  const json::Value& f = field(v, name);
  GLER_CHECK(f.is_bool(), "epoch record: field \"" << name << "\" must be a bool, got " << f.type_name());
  return f.as_bool();
}

}  // namespace

json::Value to_json(const EpochRecord& r) {
  check_range(r);
  return json::Object{
      {"epoch", r.epoch},
      {"lr", number_or_null(r.lr)},
      {"train_loss", number_or_null(r.train_loss)},
      {"train_accuracy", number_or_null(r.train_accuracy)},
      {"val_loss", number_or_null(r.val_loss)},
      {"val_accuracy", number_or_null(r.val_accuracy)},
      {"train_images", static_cast<long long>(r.train_images)},
      {"val_images", static_cast<long long>(r.val_images)},
      {"skipped", static_cast<long long>(r.skipped)},
      {"seconds", number_or_null(r.seconds)},
      {"best", r.best},
  };
}

EpochRecord epoch_record_from_json(const json::Value& v) {
  GLER_CHECK(v.is_object(), "epoch record: expected an object, got " << v.type_name());
  constexpr long long kExact = 1LL << 53;  // integers a double holds exactly
  EpochRecord r;
  r.epoch = static_cast<int>(read_integer(v, "epoch", INT_MAX));
  r.lr = read_number(v, "lr");
  r.train_loss = read_number(v, "train_loss");
  r.train_accuracy = read_number(v, "train_accuracy");
  r.val_loss = read_number(v, "val_loss");
  r.val_accuracy = read_number(v, "val_accuracy");
  r.train_images = read_integer(v, "train_images", kExact);
  r.val_images = read_integer(v, "val_images", kExact);
  r.skipped = read_integer(v, "skipped", kExact);
  r.seconds = read_number(v, "seconds");
  r.best = read_bool(v, "best");
  check_range(r);
  return r;
}

}  // namespace gler::train
