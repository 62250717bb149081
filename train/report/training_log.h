// gler_train's training log: a JSON Lines file, one EpochRecord per line in epoch order. It is
// rewritten in full (atomically) after every epoch, so a resumed run's log equals an
// uninterrupted run's and a reader never sees half a line.
#pragma once
#include <filesystem>
#include <vector>

#include "train/report/epoch_record.h"

namespace gler::train {

// Epochs must be strictly increasing. The folder must exist.
void write_training_log(const std::filesystem::path& jsonl, const std::vector<EpochRecord>& records);
// Throws naming the file and the line of the first bad line (or of an epoch out of order).
std::vector<EpochRecord> read_training_log(const std::filesystem::path& jsonl);

}  // namespace gler::train
