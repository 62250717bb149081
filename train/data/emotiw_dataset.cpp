#include "train/data/emotiw_dataset.h"

#include <algorithm>
#include <system_error>

#include "core/error.h"
#include "io/files.h"
#include "models/faces/face_layout.h"
#include "train/data/emotic_dataset.h"  // EmotiC: list_emotic_split
#include "train/data/name_lists.h"

namespace fs = std::filesystem;

namespace gler::train {
namespace {

Example make_example(const DatasetOptions& options, const std::string& split_dir, int label, const std::string& file) {
  Example e;
  e.label_dir = kClassFolders[static_cast<std::size_t>(label)];
  e.image = (options.root / "emotiw" / split_dir / e.label_dir / file).string();
  e.label = label;
  e.split_dir = split_dir;
  e.stem = models::faces::seed_stem(file);
  return e;
}

// sorted(os.listdir(emotiw/train/<Label>)), or only its image files.
std::vector<std::string> class_listing(const fs::path& folder, bool every_entry) {
  std::error_code ec;
  GLER_CHECK(fs::is_directory(folder, ec), folder.string() << ": expected a class folder of the EmotiW train split");
  std::vector<std::string> names;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (every_entry || (it->is_regular_file(ec) && io::has_image_extension(p))) names.push_back(p.filename().string());
  }
  GLER_CHECK(!ec, folder.string() << ": cannot list the folder (" << ec.message() << ")");
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<Example> train_listing(const DatasetOptions& options) {
  const bool seed = options.model.seed_compat;
  std::vector<std::pair<int, std::string>> entries;  // label, file name
  for (int label = 0; label < 3; ++label)
    for (std::string& name : class_listing(options.root / "emotiw" / "train" / kClassFolders[static_cast<std::size_t>(label)], seed))
      entries.emplace_back(label, std::move(name));
  if (seed) {
    // The filter runs over the concatenated listing, so a skip may cross a class boundary.
    std::vector<std::string> names;
    for (const auto& e : entries) names.push_back(e.second);
    std::vector<std::pair<int, std::string>> kept;
    for (std::size_t k : seed_list_filter(names)) kept.push_back(std::move(entries[k]));
    entries = std::move(kept);
  }
  std::vector<Example> examples;
  for (const auto& [label, name] : entries) examples.push_back(make_example(options, "train", label, name));
  return examples;
}

int label_of_prefix(const std::string& name, const std::string& list) {
  for (std::size_t c = 0; c < kClassPrefixes.size(); ++c)
    if (name.rfind(std::string(kClassPrefixes[c]) + "_", 0) == 0) return static_cast<int>(c);
  GLER_FAIL(list << ": entry '" << name << "' names no class: expected neg_, neu_ or pos_ before the number (SEED_SPEC §1.2)");
}

// VAL (val_list) or EVAL (test_list): images of emotiw/val.
std::vector<Example> val_listing(const DatasetOptions& options, const std::string& list, bool seed_filter) {
  const std::vector<std::string> entries = read_name_list(options.root, list);
  std::vector<std::size_t> kept(entries.size());
  for (std::size_t i = 0; i < kept.size(); ++i) kept[i] = i;
  if (seed_filter) kept = seed_list_filter(entries);
  std::vector<Example> examples;
  for (std::size_t k : kept) {
    const std::string& entry = entries[k];
    std::string file = fs::path(entry).filename().string();
    if (file.find('.') == std::string::npos) file += ".jpg";
    examples.push_back(make_example(options, "val", label_of_prefix(file, (options.root / list).string()), file));
  }
  return examples;
}

}  // namespace

const char* split_name(Split split) {
  switch (split) {
    case Split::train: return "train";
    case Split::val: return "val";
    case Split::eval: return "eval";
  }
  return "?";
}

std::vector<Example> list_split(const DatasetOptions& options, Split split) {
  if (options.emotic) return list_emotic_split(options, split);  // EmotiC pretraining (emotic_dataset.h)
  const bool seed = options.model.seed_compat;
  switch (split) {
    case Split::train: {
      std::vector<Example> examples = train_listing(options);
      if (options.full_dataset) {
        std::vector<Example> val = val_listing(options, "val_list", seed);
        examples.insert(examples.end(), std::make_move_iterator(val.begin()), std::make_move_iterator(val.end()));
      }
      return examples;
    }
    case Split::val: return options.full_dataset ? val_listing(options, "test_list", false) : val_listing(options, "val_list", seed);
    case Split::eval: return val_listing(options, "test_list", false);
  }
  GLER_FAIL("list_split: unknown split");
}

}  // namespace gler::train
