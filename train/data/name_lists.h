// The seed's VAL and EVAL lists (SEED_SPEC §1.1, §1.3): image names of the challenge-val folder,
// and the filter the seed runs over its name lists.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace gler::train {

// The names in ROOT/<name>, a pickled Python list (or tuple) of str, read with the safe unpickler
// (weights_import/pickle_vm.h; nothing in it is executed), or, when that file is absent, in
// ROOT/<name>.txt, one name per line (surrounding blanks trimmed; blank lines and lines starting
// with '#' skipped). Neither file, an unreadable one or a pickle of anything else: throws,
// naming the file(s).
std::vector<std::string> read_name_list(const std::filesystem::path& root, const std::string& name);

// The seed's filter `for i in L: if i[0] != 'p' and i[0] != 'n': L.remove(i)` with Python's
// semantics: remove() drops the first equal element, and the loop then skips the element after
// each removal, so a stray name right after another one survives (SEED_SPEC §8.10). Returns the
// positions in `names` of the names it keeps, in order.
std::vector<std::size_t> seed_list_filter(const std::vector<std::string>& names);

}  // namespace gler::train
