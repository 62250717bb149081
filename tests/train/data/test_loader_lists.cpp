// train/data listings: the splits of SEED_SPEC §1.3 in the seed's order with their labels, the
// seed's remove-while-iterating filter under seed_compat, and the name lists as pickles or text.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>

#include "tests/support/temp_dir.h"
#include "tests/support/tensors.h"
#include "tests/train/data/tiny_emotiw.h"
#include "train/data/emotiw_dataset.h"
#include "train/data/name_lists.h"

namespace fs = std::filesystem;
using namespace gler;
using namespace gler::train;

namespace {

std::vector<std::string> stems(const std::vector<Example>& examples) {
  std::vector<std::string> out;
  for (const Example& e : examples) out.push_back(e.split_dir + "/" + e.stem);
  return out;
}

void touch(const fs::path& p) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << "x";
}

// train: names that sort lexicographically, stray files; val: four images.
void build_tree(const fs::path& root) {
  int seed = 0;
  for (const char* f : {"neg_2.jpg", "neg_10.jpg", "neg_1.jpg"}) test::add_image(root, "train", "Negative", f, ++seed);
  test::add_image(root, "train", "Neutral", "neu_1.jpg", ++seed);
  touch(root / "emotiw" / "train" / "Neutral" / "xstray.txt");
  test::add_image(root, "train", "Positive", "pos_3.jpg", ++seed);
  touch(root / "emotiw" / "train" / "Positive" / "Thumbs.db");
  touch(root / "emotiw" / "train" / "Positive" / "desktop.ini");
  test::add_image(root, "val", "Negative", "neg_5.jpg", ++seed);
  test::add_image(root, "val", "Neutral", "neu_6.jpg", ++seed);
  test::add_image(root, "val", "Positive", "pos_7.jpg", ++seed);
  test::add_image(root, "val", "Positive", "pos_8.jpg", ++seed);
}

DatasetOptions options_for(const fs::path& root, bool seed_compat, bool full = false) {
  DatasetOptions o;
  o.root = root;
  o.model.arch = "global";
  o.model.seed_compat = seed_compat;
  o.full_dataset = full;
  return o;
}

}  // namespace

TEST_CASE("seed_list_filter keeps the element after each removal, as the seed's loop does") {
  // for i in L: if i[0] != 'p' and i[0] != 'n': L.remove(i)   (run by hand in CPython 3)
  const std::vector<std::string> names = {"neg_1", "a", "b", "pos_1", "c", "neu_1", "d", "e", "f", "x", "a"};
  std::vector<std::string> kept;
  for (std::size_t k : seed_list_filter(names)) kept.push_back(names[k]);
  CHECK(kept == std::vector<std::string>{"neg_1", "b", "pos_1", "neu_1", "e", "x"});
  // remove() drops the first equal element: the skipped 'b' goes when the later 'b' is examined.
  CHECK(seed_list_filter({"a", "b", "n1", "b"}) == std::vector<std::size_t>{2, 3});
  CHECK(seed_list_filter({}).empty());
}

TEST_CASE("train listing: classes in order, each sorted by name; labels by folder; default keeps every image") {
  test::TempDir dir("gler_loader_lists_train");
  build_tree(dir.path());
  const auto train = list_split(options_for(dir.path(), false), Split::train);
  CHECK(stems(train) == std::vector<std::string>{"train/neg_1", "train/neg_10", "train/neg_2", "train/neu_1", "train/pos_3"});
  REQUIRE(train.size() == 5);
  CHECK(train[0].label == 0);
  CHECK(train[3].label == 1);
  CHECK(train[4].label == 2);
  CHECK(train[4].label_dir == "Positive");
  CHECK(train[1].image == (dir.path() / "emotiw" / "train" / "Negative" / "neg_10.jpg").string());
}

TEST_CASE("train listing under seed_compat: every entry through the seed's filter, across class folders") {
  test::TempDir dir("gler_loader_lists_seed");
  build_tree(dir.path());
  // neg_1 neg_10 neg_2 neu_1 xstray.txt Thumbs.db desktop.ini pos_3.jpg: xstray removed, Thumbs.db
  // skipped (survives), desktop.ini removed, pos_3 skipped.
  const auto train = list_split(options_for(dir.path(), true), Split::train);
  CHECK(stems(train) == std::vector<std::string>{"train/neg_1", "train/neg_10", "train/neg_2", "train/neu_1", "train/Thumbs",
                                                 "train/pos_3"});
  REQUIRE(train.size() == 6);
  CHECK(train[4].label == 2);  // Thumbs.db lies in Positive/
}

TEST_CASE("VAL and EVAL from text lists: order kept, labels and folders from the prefixes, with or without .jpg") {
  test::TempDir dir("gler_loader_lists_txt");
  build_tree(dir.path());
  std::ofstream(dir.path() / "val_list.txt") << "# VAL\nneu_6\r\n\npos_7.jpg\n  neg_5  \n";
  test::write_text_list(dir.path() / "test_list.txt", {"pos_8", "val/Negative/neg_5.jpg"});
  const auto val = list_split(options_for(dir.path(), false), Split::val);
  CHECK(stems(val) == std::vector<std::string>{"val/neu_6", "val/pos_7", "val/neg_5"});
  REQUIRE(val.size() == 3);
  CHECK(val[0].label == 1);
  CHECK(val[1].label == 2);
  CHECK(val[2].label == 0);
  CHECK(val[0].image == (dir.path() / "emotiw" / "val" / "Neutral" / "neu_6.jpg").string());
  const auto eval = list_split(options_for(dir.path(), false), Split::eval);
  CHECK(stems(eval) == std::vector<std::string>{"val/pos_8", "val/neg_5"});
  CHECK(eval[1].image == (dir.path() / "emotiw" / "val" / "Negative" / "neg_5.jpg").string());

  SUBCASE("FullDataset: train = train ∪ VAL, validation = EVAL") {
    const auto train = list_split(options_for(dir.path(), false, true), Split::train);
    CHECK(stems(train) == std::vector<std::string>{"train/neg_1", "train/neg_10", "train/neg_2", "train/neu_1", "train/pos_3",
                                                   "val/neu_6", "val/pos_7", "val/neg_5"});
    CHECK(stems(list_split(options_for(dir.path(), false, true), Split::val)) == stems(eval));
    CHECK(stems(list_split(options_for(dir.path(), false, true), Split::eval)) == stems(eval));
  }
}

TEST_CASE("the seed's filter runs over VAL only; entries without a class prefix are an error by default") {
  test::TempDir dir("gler_loader_lists_filter");
  build_tree(dir.path());
  test::write_text_list(dir.path() / "val_list.txt", {"neu_6", "Xjunk", "pos_7.jpg", "neg_5"});
  test::write_text_list(dir.path() / "test_list.txt", {"pos_8"});
  // Xjunk removed, pos_7 skipped by the loop (kept anyway), neg_5 kept.
  CHECK(stems(list_split(options_for(dir.path(), true), Split::val)) ==
        std::vector<std::string>{"val/neu_6", "val/pos_7", "val/neg_5"});
  test::expect_error_naming("default mode keeps Xjunk", {"val_list", "Xjunk", "neg_, neu_ or pos_"},
                            [&] { list_split(options_for(dir.path(), false), Split::val); });
  test::write_text_list(dir.path() / "test_list.txt", {"pos_8", "Xjunk"});
  test::expect_error_naming("EVAL is not filtered", {"test_list", "Xjunk"},
                            [&] { list_split(options_for(dir.path(), true), Split::eval); });
}

TEST_CASE("missing lists are an error naming both files") {
  test::TempDir dir("gler_loader_lists_missing");
  build_tree(dir.path());
  test::expect_error_naming("no val_list", {"val_list", "val_list.txt", "pickled"},
                            [&] { list_split(options_for(dir.path(), false), Split::val); });
  test::expect_error_naming("no test_list", {"test_list"}, [&] { list_split(options_for(dir.path(), false), Split::eval); });
  fs::remove_all(dir.path() / "emotiw" / "train" / "Neutral");
  test::expect_error_naming("a class folder missing", {"Neutral", "class folder"},
                            [&] { list_split(options_for(dir.path(), false), Split::train); });
}

TEST_CASE("pickled lists (protocols 2 and 4, with and without .jpg) win over text lists") {
  if (!test::python_has("pickle")) {
    std::printf("skipped: %s cannot run, no pickled lists to read\n", GLER_PYTHON);
    return;
  }
  test::TempDir dir("gler_loader_lists_pickle");
  build_tree(dir.path());
  test::write_text_list(dir.path() / "val_list.txt", {"neg_5"});
  REQUIRE(test::write_pickled_list(dir.path() / "val_list", {"pos_7", "neu_6", "neg_5"}, 2));
  REQUIRE(test::write_pickled_list(dir.path() / "test_list", {"pos_8.jpg", "neg_5.jpg"}, 4));
  CHECK(stems(list_split(options_for(dir.path(), false), Split::val)) ==
        std::vector<std::string>{"val/pos_7", "val/neu_6", "val/neg_5"});
  CHECK(read_name_list(dir.path(), "test_list") == std::vector<std::string>{"pos_8.jpg", "neg_5.jpg"});
  const auto eval = list_split(options_for(dir.path(), false), Split::eval);
  CHECK(stems(eval) == std::vector<std::string>{"val/pos_8", "val/neg_5"});
  CHECK(eval[0].label == 2);

  std::ofstream(dir.path() / "test_list", std::ios::binary) << "not a pickle";
  test::expect_error_naming("a corrupt pickle", {"test_list"}, [&] { read_name_list(dir.path(), "test_list"); });
  // A pickled dict is not a list of names (and nothing in it runs).
  const std::string cmd = std::string(GLER_PYTHON) + " -c \"import pickle; open('" + (dir.path() / "test_list").string() +
                          "', 'wb').write(pickle.dumps({'a': 1}))\"";
  REQUIRE(std::system(cmd.c_str()) == 0);
  test::expect_error_naming("a pickled dict", {"test_list", "list of names"}, [&] { read_name_list(dir.path(), "test_list"); });
}
