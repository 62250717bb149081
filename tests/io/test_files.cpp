// io/files: the image listing (recursive, extensions in any case, one fixed order) and atomic writes.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "io/files.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using namespace gler::io;

namespace {

const gler::test::TempDir kScratch("gler_test_files");
const fs::path& kTmp = kScratch.path();

void touch(const fs::path& p) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << "x";
}

}  // namespace

TEST_CASE("files: image extensions, any case") {
  for (const char* name : {"a.jpg", "a.JPG", "b.jpeg", "c.Png", "d.bmp", "e.GIF", "f.tga", "dir/x.y.JpEg"}) {
    CAPTURE(name);
    CHECK(has_image_extension(name));
  }
  for (const char* name : {"a.txt", "jpg", "a.jpg.tmp1_0", "a.npz", "a.json", "a.webp", "a.jp"}) {
    CAPTURE(name);
    CHECK_FALSE(has_image_extension(name));
  }
}

TEST_CASE("files: list_images is recursive, skips other files, and sorts by path bytes") {
  const fs::path root = kTmp / "tree";
  for (const char* name : {"b.png", "A.JPG", "a.jpg", "notes.txt", "sub/z.bmp", "sub/deeper/c.jpeg", "sub2/y.gif",
                           "sub/readme.md", "Z/t.tga", "emptydir/.keep"})
    touch(root / name);
  fs::create_directories(root / "nothing_here");
  const std::vector<fs::path> found = list_images(root);
  // Byte order of the generic path: upper case before lower case, '/' (0x2f) before letters.
  const std::vector<std::string> expected = {"A.JPG", "Z/t.tga", "a.jpg", "b.png", "sub/deeper/c.jpeg", "sub/z.bmp", "sub2/y.gif"};
  REQUIRE(found.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) CHECK(found[i].generic_string() == expected[i]);
  CHECK(list_images(root / "nothing_here").empty());
}

TEST_CASE("files: listing something that is not a folder is an error naming it") {
  touch(kTmp / "plain.jpg");
  CHECK_THROWS_WITH_AS(list_images(kTmp / "plain.jpg"), doctest::Contains("plain.jpg"), gler::Error);
  CHECK_THROWS_WITH_AS(list_images(kTmp / "missing"), doctest::Contains("missing"), gler::Error);
}

TEST_CASE("files: atomic writes replace the file whole and leave no temporary behind") {
  const fs::path p = kTmp / "atomic" / "out.json";
  fs::create_directories(p.parent_path());
  write_text_atomic(p, "first version, long text");
  CHECK(gler::test::slurp(p) == "first version, long text");
  write_text_atomic(p, "second");
  CHECK(gler::test::slurp(p) == "second");
  const std::vector<std::uint8_t> bytes = {0, 1, 2, 255, 0, 10};
  write_bytes_atomic(p, bytes);
  CHECK(read_bytes(p) == bytes);
  write_bytes_atomic(p, {});
  CHECK(read_bytes(p).empty());
  std::size_t entries = 0;
  for (const auto& e : fs::directory_iterator(p.parent_path())) {
    ++entries;
    CHECK(e.path().filename() == "out.json");
  }
  CHECK(entries == 1);
}

TEST_CASE("files: errors name the file") {
  CHECK_THROWS_WITH_AS(write_text_atomic(kTmp / "no" / "such" / "dir.txt", "x"), doctest::Contains("dir.txt"), gler::Error);
  CHECK_THROWS_WITH_AS(read_bytes(kTmp / "absent.bin"), doctest::Contains("absent.bin"), gler::Error);
}
