// Which images the synthetic dataset has and what they are called: per split, each class gets an
// equal share (the first classes one more when the count does not divide by 3), named as the
// seed names them (SEED_SPEC §1.2): <split>/<Label>/<prefix>_<k>.jpg with k = 1, 2, ... within
// the split and class. The val images are divided into VAL and EVAL (SEED_SPEC §1.3).
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace gler::synth {

extern const std::array<const char*, 3> kLabelNames;    // Negative, Neutral, Positive
extern const std::array<const char*, 3> kLabelPrefixes;  // neg, neu, pos

struct SynthImage {
  std::string split;  // "train" or "val"
  int label = 0;      // 0 Negative, 1 Neutral, 2 Positive
  int number = 0;     // k of <prefix>_<k>

  std::string file_name() const;             // e.g. "neg_3.jpg"
  std::filesystem::path relative() const;    // below emotiw/, e.g. train/Negative/neg_3.jpg
  std::uint64_t stream() const;              // its random stream: one per split, label and number
};

// Train images first, then val; within a split the classes in order, each numbered from 1.
std::vector<SynthImage> plan_synth_images(int train, int val);

// VAL (val_list) takes the first ceil(n/2) val images of each class and EVAL (test_list) the rest,
// each list interleaving the classes: neg_1, neu_1, pos_1, neg_2, ... (a class that has run out
// is skipped). Names are file names, e.g. "neg_3.jpg".
struct ValSplit {
  std::vector<std::string> val_list, test_list;
};
ValSplit split_val(const std::vector<SynthImage>& plan);

}  // namespace gler::synth
