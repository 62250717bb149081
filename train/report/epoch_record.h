// One line of gler_train's training log: what an epoch did, on the training and the validation
// split. Losses can be non-finite (a diverged run); JSON has no NaN, so they are written as null
// and read back as NaN.
#pragma once
#include <cstdint>

#include "io/json.h"

namespace gler::train {

struct EpochRecord {
  int epoch = 0;  // 1-based: the first epoch is 1
  double lr = 0;  // learning rate of the epoch (of its last step when it changes within the epoch)
  double train_loss = 0, train_accuracy = 0;  // accuracies are fractions in [0, 1], or NaN
  double val_loss = 0, val_accuracy = 0;
  std::int64_t train_images = 0, val_images = 0;
  std::int64_t skipped = 0;  // images left out of the epoch (e.g. unreadable)
  double seconds = 0;        // wall time of the epoch, validation included
  bool best = false;         // the best validation accuracy so far was reached at this epoch
};

// {"epoch":..,"lr":..,"train_loss":..,...} in the struct's order. Throws when the record is out of
// range (epoch < 1, an accuracy outside [0, 1], a negative count).
json::Value to_json(const EpochRecord& record);
// Strict: every field present with its type (numbers may be null = NaN), the same ranges as
// to_json; an error names the field. Unknown fields are ignored.
EpochRecord epoch_record_from_json(const json::Value& value);

}  // namespace gler::train
