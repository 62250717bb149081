#include "train/synth/synth_plan.h"

#include <algorithm>

#include "core/error.h"

namespace gler::synth {
namespace {

std::array<int, 3> class_counts(int total) {
  std::array<int, 3> counts{};
  for (int c = 0; c < 3; ++c) counts[c] = total / 3 + (c < total % 3 ? 1 : 0);
  return counts;
}

// The val file names numbered first[c]..last[c] in class c, interleaved: round r takes number
// first[c] + r of each class that has it.
std::vector<std::string> interleaved(const std::array<int, 3>& first, const std::array<int, 3>& last) {
  std::vector<std::string> names;
  const int rounds = std::max({last[0] - first[0], last[1] - first[1], last[2] - first[2]}) + 1;
  for (int r = 0; r < rounds; ++r)
    for (int c = 0; c < 3; ++c)
      if (first[c] + r <= last[c]) names.push_back(SynthImage{"val", c, first[c] + r}.file_name());
  return names;
}

}  // namespace

const std::array<const char*, 3> kLabelNames{"Negative", "Neutral", "Positive"};
const std::array<const char*, 3> kLabelPrefixes{"neg", "neu", "pos"};

std::string SynthImage::file_name() const { return std::string(kLabelPrefixes[label]) + "_" + std::to_string(number) + ".jpg"; }

std::filesystem::path SynthImage::relative() const { return std::filesystem::path(split) / kLabelNames[label] / file_name(); }

std::uint64_t SynthImage::stream() const {
  const std::uint64_t split_index = split == "train" ? 0 : 1;
  return split_index << 40 | static_cast<std::uint64_t>(label) << 32 | static_cast<std::uint32_t>(number);
}

std::vector<SynthImage> plan_synth_images(int train, int val) {
  GLER_CHECK(train >= 0 && val >= 0, "image counts must not be negative, got train " << train << ", val " << val);
  std::vector<SynthImage> plan;
  for (const auto& [split, total] : {std::pair<const char*, int>{"train", train}, {"val", val}}) {
    const std::array<int, 3> counts = class_counts(total);
    for (int c = 0; c < 3; ++c)
      for (int k = 1; k <= counts[c]; ++k) plan.push_back({split, c, k});
  }
  return plan;
}

ValSplit split_val(const std::vector<SynthImage>& plan) {
  std::array<int, 3> counts{};
  for (const SynthImage& image : plan)
    if (image.split == "val") counts[image.label] = std::max(counts[image.label], image.number);
  std::array<int, 3> val_last{}, test_first{};
  for (int c = 0; c < 3; ++c) {
    val_last[c] = (counts[c] + 1) / 2;
    test_first[c] = val_last[c] + 1;
  }
  return {interleaved({1, 1, 1}, val_last), interleaved(test_first, counts)};
}

}  // namespace gler::synth
