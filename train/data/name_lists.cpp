#include "train/data/name_lists.h"

#include <algorithm>
#include <fstream>
#include <system_error>

#include "core/error.h"
#include "io/files.h"
#include "weights_import/pickle_vm.h"

namespace fs = std::filesystem;

namespace gler::train {
namespace {

std::vector<std::string> read_pickled_names(const fs::path& file) {
  const std::vector<std::uint8_t> bytes = io::read_bytes(file);
  std::vector<std::string> names;
  try {
    const wi::Pickle pickle = wi::unpickle(bytes.data(), bytes.size());
    const wi::Value* root = pickle.root;
    GLER_CHECK(root != nullptr && root->is_sequence(),
               "expected a pickled list of names, got a " << (root ? wi::kind_name(root->kind) : "nothing"));
    for (const wi::Value* item : root->items) {
      // Python 2 pickles its str as bytes.
      GLER_CHECK(item->is(wi::Value::Kind::Str) || item->is(wi::Value::Kind::Bytes),
                 "expected names (str), found a " << wi::kind_name(item->kind));
      names.push_back(item->s);
    }
  } catch (const Error& e) {
    GLER_FAIL(file.string() << ": " << e.what());
  }
  return names;
}

std::string trimmed(const std::string& line) {
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  const auto first = std::find_if_not(line.begin(), line.end(), blank);
  const auto last = std::find_if_not(line.rbegin(), line.rend(), blank).base();
  return first < last ? std::string(first, last) : std::string();
}

std::vector<std::string> read_text_names(const fs::path& file) {
  std::ifstream in(file);
  GLER_CHECK(in, file.string() << ": cannot read the list");
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) {
    const std::string name = trimmed(line);
    if (!name.empty() && name[0] != '#') names.push_back(name);
  }
  GLER_CHECK(!in.bad(), file.string() << ": read error");
  return names;
}

}  // namespace

std::vector<std::string> read_name_list(const fs::path& root, const std::string& name) {
  const fs::path pickled = root / name, text = root / (name + ".txt");
  std::error_code ec;
  if (fs::is_regular_file(pickled, ec)) return read_pickled_names(pickled);
  if (fs::is_regular_file(text, ec)) return read_text_names(text);
  GLER_FAIL("no " << name << " list: neither " << pickled.string() << " (a pickled list) nor " << text.string()
                  << " (one name per line) exists");
}

std::vector<std::size_t> seed_list_filter(const std::vector<std::string>& names) {
  std::vector<std::size_t> kept(names.size());
  for (std::size_t i = 0; i < kept.size(); ++i) kept[i] = i;
  for (std::size_t i = 0; i < kept.size(); ++i) {
    const std::string& name = names[kept[i]];
    // An empty name: i[0] raises in Python; nothing sensible survives it, so it goes too.
    if (!name.empty() && (name[0] == 'p' || name[0] == 'n')) continue;
    kept.erase(std::find_if(kept.begin(), kept.end(), [&](std::size_t k) { return names[k] == name; }));
  }
  return kept;
}

}  // namespace gler::train
