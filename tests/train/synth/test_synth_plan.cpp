// The synthetic dataset's names and lists (train/synth/synth_plan.h, pickle_list.h): classes
// balanced and named as the seed names them, VAL and EVAL partitioning val, and the lists
// pickled byte for byte as Python pickles them, readable by the project's safe unpickler.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "io/files.h"
#include "tests/support/temp_dir.h"
#include "train/synth/pickle_list.h"
#include "train/synth/synth_plan.h"
#include "weights_import/pickle_vm.h"

using namespace gler::synth;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> unpickled(const std::vector<std::uint8_t>& bytes) {
  const gler::wi::Pickle p = gler::wi::unpickle(bytes.data(), bytes.size());
  REQUIRE(p.root != nullptr);
  REQUIRE(p.root->is(gler::wi::Value::Kind::List));
  CHECK(p.consumed == bytes.size());
  std::vector<std::string> names;
  for (const gler::wi::Value* item : p.root->items) {
    REQUIRE(item->is(gler::wi::Value::Kind::Str));
    names.push_back(item->s);
  }
  return names;
}

std::vector<std::string> numbered(int n) {
  std::vector<std::string> names;
  for (int i = 1; i <= n; ++i) names.push_back("pos_" + std::to_string(i) + ".jpg");
  return names;
}

// A byte string literal with its NULs.
template <std::size_t N>
std::string bytes(const char (&literal)[N]) {
  return std::string(literal, N - 1);
}

bool python_available() { return std::system((std::string(GLER_PYTHON) + " -c 'import pickle' 2>/dev/null").c_str()) == 0; }

}  // namespace

TEST_CASE("the plan: balanced classes, the seed's names, train before val") {
  const std::vector<SynthImage> plan = plan_synth_images(13, 5);
  REQUIRE(plan.size() == 18);
  std::array<int, 3> train{}, val{};
  std::set<fs::path> paths;
  for (const SynthImage& image : plan) {
    (image.split == "train" ? train : val)[image.label]++;
    paths.insert(image.relative());
  }
  CHECK(train == std::array<int, 3>{5, 4, 4});
  CHECK(val == std::array<int, 3>{2, 2, 1});
  CHECK(paths.size() == plan.size());
  CHECK(plan.front().relative() == fs::path("train/Negative/neg_1.jpg"));
  CHECK(plan[5].relative() == fs::path("train/Neutral/neu_1.jpg"));
  CHECK(plan[12].relative() == fs::path("train/Positive/pos_4.jpg"));
  CHECK(plan[13].relative() == fs::path("val/Negative/neg_1.jpg"));
  CHECK(plan.back().relative() == fs::path("val/Positive/pos_1.jpg"));
  std::set<std::uint64_t> streams;
  for (const SynthImage& image : plan) streams.insert(image.stream());
  CHECK(streams.size() == plan.size());
  CHECK_THROWS(plan_synth_images(-1, 3));
}

TEST_CASE("VAL and EVAL partition val, the classes interleaved") {
  const std::vector<SynthImage> plan = plan_synth_images(3, 8);  // val: 3 Negative, 3 Neutral, 2 Positive
  const ValSplit lists = split_val(plan);
  CHECK(lists.val_list == std::vector<std::string>{"neg_1.jpg", "neu_1.jpg", "pos_1.jpg", "neg_2.jpg", "neu_2.jpg"});
  CHECK(lists.test_list == std::vector<std::string>{"neg_3.jpg", "neu_3.jpg", "pos_2.jpg"});
  for (const int n : {0, 1, 2, 6, 7, 150}) {
    CAPTURE(n);
    const std::vector<SynthImage> p = plan_synth_images(4, n);
    const ValSplit s = split_val(p);
    std::multiset<std::string> all(s.val_list.begin(), s.val_list.end());
    all.insert(s.test_list.begin(), s.test_list.end());
    std::multiset<std::string> expected;
    for (const SynthImage& image : p)
      if (image.split == "val") expected.insert(image.file_name());
    CHECK(all == expected);
    CHECK(s.val_list.size() >= s.test_list.size());
  }
}

TEST_CASE("pickled lists: Python's protocol-2 bytes, read back by the safe unpickler") {
  const std::vector<std::uint8_t> two = pickle_str_list({"neg_1.jpg", "neu_1.jpg"});
  // pickle.dumps(['neg_1.jpg', 'neu_1.jpg'], protocol=2)
  CHECK(std::string(two.begin(), two.end()) ==
        bytes("\x80\x02]q\x00(X\x09\x00\x00\x00neg_1.jpgq\x01X\x09\x00\x00\x00neu_1.jpgq\x02" "e."));
  const std::vector<std::uint8_t> one = pickle_str_list({"x"}), none = pickle_str_list({});
  CHECK(std::string(one.begin(), one.end()) == bytes("\x80\x02]q\x00X\x01\x00\x00\x00xq\x01" "a."));
  CHECK(std::string(none.begin(), none.end()) == bytes("\x80\x02]q\x00."));
  // Memo slots past 255 and batches past 1000 items.
  for (const int n : {0, 1, 2, 300, 1001, 2500}) {
    CAPTURE(n);
    CHECK(unpickled(pickle_str_list(numbered(n))) == numbered(n));
  }
  CHECK(unpickled(pickle_str_list({"caf\xc3\xa9.jpg"})) == std::vector<std::string>{"caf\xc3\xa9.jpg"});
}

TEST_CASE("pickled lists equal pickle.dumps(names, protocol=2)") {
  if (!python_available()) {
    MESSAGE("skipped: " << GLER_PYTHON << " is not available");
    return;
  }
  const gler::test::TempDir tmp("gler_synth_pickle");
  for (const int n : {0, 1, 2, 300, 1001, 2500}) {
    CAPTURE(n);
    const fs::path ours = tmp.path() / ("ours_" + std::to_string(n)), theirs = tmp.path() / ("py_" + std::to_string(n));
    gler::io::write_bytes_atomic(ours, pickle_str_list(numbered(n)));
    const std::string script = "import pickle,sys; open(sys.argv[2],'wb').write(pickle.dumps(['pos_%d.jpg' % i for i in range(1, " +
                               std::to_string(n + 1) + ")], protocol=2)); assert pickle.load(open(sys.argv[1],'rb')) == "
                               "['pos_%d.jpg' % i for i in range(1, " + std::to_string(n + 1) + ")]";
    const std::string cmd = std::string(GLER_PYTHON) + " -c \"" + script + "\" '" + ours.string() + "' '" + theirs.string() + "'";
    REQUIRE(std::system(cmd.c_str()) == 0);
    CHECK(gler::test::slurp(ours) == gler::test::slurp(theirs));
  }
}
