// The saved outputs of several models on one split of images: what every ensemble starts from.
// Two sources give the same thing: the seed's ModelOutputs .npz files (output_<split>_model<k>,
// label_<split>, filename_<split>) and a set of gler_infer JSON files, one per model, with a
// labels CSV.
#pragma once
#include <array>
#include <cstddef>
#include <string>
#include <vector>

namespace gler::ensemble {

inline constexpr int kNumClasses = 3;  // 0 = Negative, 1 = Neutral, 2 = Positive, everywhere
inline constexpr std::array<const char*, kNumClasses> kClassNames = {"Negative", "Neutral", "Positive"};

// Class index of "0"/"1"/"2" or "Negative"/"Neutral"/"Positive"; throws otherwise.
int parse_class(const std::string& s);

struct SplitOutputs {
  std::string source;                      // what it was read from, for messages
  std::vector<int> model_ids;              // 1-based model numbers (the seed's numbering for npz files)
  std::vector<std::vector<float>> logits;  // [model][image * 3 + class]: raw logits, as saved
  std::vector<int> labels;                 // one per image; empty when the split is unlabelled
  std::vector<std::string> images;         // one per image; empty when the source names none

  std::size_t num_models() const { return logits.size(); }
  std::size_t num_images() const { return logits.empty() ? 0 : logits.front().size() / kNumClasses; }
  bool labelled() const { return !labels.empty(); }
};

// Reads output_<split>_model<k> for every k present, label_<split> and filename_<split> when
// present. Score arrays must be (N, 3) float, labels (N,) integers in 0..2.
SplitOutputs load_npz_split(const std::string& path, const std::string& split);

// One gler_infer JSON file per model (a list of {"image": path, "logits": [l0, l1, l2], ...});
// every file must cover the same images, which are ordered as in the first file. Models are
// numbered 1..K in the order given. `labels_csv` (may be empty: unlabelled) has the header
// image,label; label is 0/1/2 or a class name; images match by path, else by unique file stem.
SplitOutputs load_json_set(const std::vector<std::string>& json_paths, const std::string& labels_csv);

// The given models (1-based ids, in the given order); throws for an id the set does not have.
SplitOutputs select_models(const SplitOutputs& outputs, const std::vector<int>& model_ids);

}  // namespace gler::ensemble
