// Training curves as a self-contained SVG (no scripts, no fonts to fetch): loss and accuracy of
// the training and validation splits by epoch, side by side, the best epoch ringed.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "train/report/epoch_record.h"

namespace gler::train {

// 800x400: a loss panel (y from the data) and an accuracy panel (y 0..100%), x = epoch, one
// polyline per series (train, val) and panel, with dots on its points while epochs are 12 px or
// more apart; non-finite values are left out. The best epoch is the last record flagged `best`,
// ringed on the val accuracy. Epochs must increase. No records: a picture saying so.
std::string training_curves_svg(const std::vector<EpochRecord>& records, const std::string& title);
void write_training_curves(const std::filesystem::path& svg, const std::vector<EpochRecord>& records,
                           const std::string& title);

}  // namespace gler::train
