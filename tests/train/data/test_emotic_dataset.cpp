// train/data EmotiC dataset (SEED_SPEC §5): ROOT/emotic/{train,val}_annotations.npz read in file
// order, labels by the seed's valence bins, ROOT/emotic/<folder>/<image> paths; unmapped
// valences, object (pickled) arrays, truncated and malformed files refused with clear errors;
// prepare_example and the Loader over such a root giving [B, 3, 224, 224] batches with labels.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <zlib.h>

#include "core/error.h"
#include "io/image.h"
#include "io/npz.h"
#include "tests/support/temp_dir.h"
#include "tests/train/data/tiny_emotiw.h"
#include "train/data/emotic_dataset.h"
#include "train/data/emotiw_dataset.h"
#include "train/data/loader.h"

namespace fs = std::filesystem;
using namespace gler;
using namespace gler::train;

namespace {

// np.savez's layout, written here for any dtype (io::write_npz writes float arrays only): .npy
// 1.0 members (header padded to 64 bytes) in a stored zip.
void put_le(std::string& out, std::uint64_t v, int bytes) {
  for (int b = 0; b < bytes; ++b) out.push_back(static_cast<char>(v >> (8 * b)));
}

std::string npy_bytes(const io::NpyArray& a) {
  std::string shape = "(";
  for (std::int64_t d : a.shape) shape += std::to_string(d) + ",";
  if (a.shape.size() > 1) shape.pop_back();
  shape += ")";
  std::string header = "{'descr': '" + a.descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out.push_back(1);
  out.push_back(0);
  put_le(out, header.size(), 2);
  out += header;
  out.append(a.data.begin(), a.data.end());
  return out;
}

void write_npz_any(const fs::path& path, const std::vector<io::NpyArray>& arrays) {
  std::string file, central;
  for (const io::NpyArray& a : arrays) {
    const std::string name = a.name + ".npy", data = npy_bytes(a);
    const std::uint32_t crc = static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
    const std::size_t offset = file.size();
    const auto common = [&](std::string& out) {
      put_le(out, 20, 2);  // version needed
      put_le(out, 0, 2);   // flags
      put_le(out, 0, 2);   // stored
      put_le(out, 0, 2);   // time
      put_le(out, 33, 2);  // date 1980-01-01
      put_le(out, crc, 4);
      put_le(out, data.size(), 4);
      put_le(out, data.size(), 4);
      put_le(out, name.size(), 2);
      put_le(out, 0, 2);  // extra
    };
    put_le(file, 0x04034b50, 4);
    common(file);
    file += name;
    file += data;
    put_le(central, 0x02014b50, 4);
    put_le(central, 20, 2);  // made by
    common(central);
    put_le(central, 0, 2);  // comment
    put_le(central, 0, 2);  // disk
    put_le(central, 0, 2);  // internal attributes
    put_le(central, 0, 4);  // external attributes
    put_le(central, offset, 4);
    central += name;
  }
  const std::size_t cd_offset = file.size();
  file += central;
  put_le(file, 0x06054b50, 4);
  put_le(file, 0, 2);
  put_le(file, 0, 2);
  put_le(file, arrays.size(), 2);
  put_le(file, arrays.size(), 2);
  put_le(file, central.size(), 4);
  put_le(file, cd_offset, 4);
  put_le(file, 0, 2);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << file;
}

// A unicode array as numpy saves np.array(list_of_str): '<U{longest}', UTF-32LE, NUL-padded.
io::NpyArray npy_unicode(std::string name, const std::vector<std::u32string>& values) {
  std::size_t chars = 1;
  for (const auto& v : values) chars = std::max(chars, v.size());
  io::NpyArray a{std::move(name), "<U" + std::to_string(chars), {static_cast<std::int64_t>(values.size())}, {}};
  for (const auto& v : values)
    for (std::size_t c = 0; c < chars; ++c) {
      const std::uint32_t cp = c < v.size() ? static_cast<std::uint32_t>(v[c]) : 0;
      for (int b = 0; b < 4; ++b) a.data.push_back(static_cast<std::uint8_t>(cp >> (8 * b)));
    }
  return a;
}

io::NpyArray npy_i64(std::string name, const std::vector<std::int64_t>& values) {
  io::NpyArray a{std::move(name), "<i8", {static_cast<std::int64_t>(values.size())}, std::vector<std::uint8_t>(values.size() * 8)};
  if (!values.empty()) std::memcpy(a.data.data(), values.data(), a.data.size());
  return a;
}

std::vector<std::u32string> ascii(const std::vector<std::string>& names) {
  std::vector<std::u32string> out;
  for (const auto& n : names) out.emplace_back(n.begin(), n.end());
  return out;
}

fs::path annotations(const fs::path& root, const std::string& split) { return root / "emotic" / (split + "_annotations.npz"); }

void write_annotations(const fs::path& root, const std::string& split, const std::vector<std::string>& folders,
                       const std::vector<std::string>& images, io::NpyArray valence) {
  fs::create_directories(root / "emotic");
  write_npz_any(annotations(root, split), {npy_unicode("image", ascii(images)), npy_unicode("folder", ascii(folders)), std::move(valence)});
}

DatasetOptions emotic(const fs::path& root) {
  DatasetOptions o;
  o.root = root;
  o.emotic = true;
  return o;
}

std::string error_of(const DatasetOptions& o, Split split) {
  try {
    list_split(o, split);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// ROOT/emotic/<folder>/<file> images and the train/val npz files.
struct TinyEmotic {
  fs::path root;
  std::vector<std::string> folders, images;
  std::vector<double> valence;

  void add(const std::string& folder, const std::string& file, double v, const io::Image& image) {
    const fs::path p = root / "emotic" / folder / file;
    fs::create_directories(p.parent_path());
    if (p.extension() == ".png") io::write_png(image, p.string());
    else io::write_jpeg(image, p.string(), 90);
    folders.push_back(folder);
    images.push_back(file);
    valence.push_back(v);
  }
  void write(const std::string& split) const {
    write_npz_any(root / "emotic" / (split + "_annotations.npz"),
                  {npy_unicode("image", ascii(images)), npy_unicode("folder", ascii(folders)),
                   io::npy_f64("valence", {static_cast<std::int64_t>(valence.size())}, valence)});
  }
};

DatasetOptions emotic_options(const fs::path& root, const std::string& arch = "global") {
  DatasetOptions o;
  o.root = root;
  o.emotic = true;
  o.model.arch = arch;
  return o;
}

}  // namespace

TEST_CASE("emotic valence bins are the seed's: int(valence) - 1 < 4, < 7, else (1..10 only)") {
  const std::vector<std::pair<double, int>> cases = {{1, 0},   {2, 0},   {4, 0},    {4.99, 0}, {5, 1},  {6, 1},  {7, 1},
                                                     {7.9, 1}, {8, 2},   {9, 2},    {10, 2},   {10.99, 2}, {1.0, 0}};
  for (const auto& [v, c] : cases) {
    CAPTURE(v);
    CHECK(emotic_valence_class(v) == c);
  }
  for (double bad : {0.0, 0.5, -1.0, 11.0, 12.5, std::nan(""), std::numeric_limits<double>::infinity()}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(emotic_valence_class(bad), Error);
  }
}

TEST_CASE("emotic list_split gives the npz entries in file order with ROOT/emotic/<folder>/<image>") {
  test::TempDir dir("gler_emotic_lists");
  const fs::path root = dir.path();
  const std::vector<double> valence = {7, 1, 4.5, 5, 10, 8, 6.5, 2};
  const std::vector<int> expect = {1, 0, 0, 1, 2, 2, 1, 0};
  std::vector<std::string> folders, images;
  for (std::size_t i = 0; i < valence.size(); ++i) {
    folders.push_back(i % 2 ? "mscoco/images" : "framesdb/images");
    images.push_back("img_" + std::to_string(7 - i) + ".v2.jpg");  // not sorted: file order must be kept
  }
  write_annotations(root, "train", folders, images, io::npy_f64("valence", {static_cast<std::int64_t>(valence.size())}, valence));
  write_annotations(root, "val", {"ade20k/images", "emodb_small/images"}, {"a.jpg", "b.png"}, npy_i64("valence", {3, 9}));

  const std::vector<Example> train = list_split(emotic(root), Split::train);
  REQUIRE(train.size() == valence.size());
  for (std::size_t i = 0; i < train.size(); ++i) {
    CAPTURE(i);
    CHECK(train[i].image == (root / "emotic" / folders[i] / images[i]).string());
    CHECK(train[i].label == expect[i]);
    CHECK(train[i].label_dir == kClassFolders[static_cast<std::size_t>(expect[i])]);
    CHECK(train[i].split_dir == "emotic");
    CHECK(train[i].stem == "img_" + std::to_string(7 - i));
  }
  const std::vector<Example> val = list_split(emotic(root), Split::val);
  REQUIRE(val.size() == 2);
  CHECK(val[0].image == (root / "emotic" / "ade20k/images" / "a.jpg").string());
  CHECK(val[0].label == 0);
  CHECK(val[1].image == (root / "emotic" / "emodb_small/images" / "b.png").string());
  CHECK(val[1].label == 2);

  CHECK(contains(error_of(emotic(root), Split::eval), "no eval split"));
  DatasetOptions full = emotic(root);
  full.full_dataset = true;
  CHECK(contains(error_of(full, Split::train), "full_dataset"));
  // Without emotic the same root is an EmotiW root (and lacks emotiw/).
  DatasetOptions emotiw = emotic(root);
  emotiw.emotic = false;
  CHECK_THROWS_AS(list_split(emotiw, Split::train), Error);
}

TEST_CASE("emotic list_split refuses unmapped valences, naming the entry") {
  test::TempDir dir("gler_emotic_badval");
  const fs::path root = dir.path();
  for (const double bad : {11.0, 0.0, std::nan("")}) {
    CAPTURE(bad);
    write_annotations(root, "train", {"f", "f", "f"}, {"ok.jpg", "ok2.jpg", "bad.jpg"}, io::npy_f64("valence", {3}, {5, 6, bad}));
    const std::string e = error_of(emotic(root), Split::train);
    CHECK(contains(e, annotations(root, "train").string()));
    CHECK(contains(e, "entry 2"));
    CHECK(contains(e, "bad.jpg"));
    CHECK(contains(e, "valence"));
  }
  write_annotations(root, "train", {"f"}, {"x.jpg"}, npy_i64("valence", {11}));
  CHECK(contains(error_of(emotic(root), Split::train), "leave unmapped"));
}

TEST_CASE("emotic list_split refuses object arrays, other dtypes, bad shapes and paths") {
  test::TempDir dir("gler_emotic_bad");
  const fs::path root = dir.path();
  fs::create_directories(root / "emotic");
  const fs::path file = annotations(root, "train");
  const auto valence = io::npy_f64("valence", {1}, {5});

  CHECK(contains(error_of(emotic(root), Split::train), "no EmotiC annotation file"));

  // An object array, as np.savez(image=np.array(names, dtype=object)) writes it: a pickle.
  io::NpyArray object{"image", "|O", {1}, {0x80, 0x02, ']', 'q', 0x00, '.'}};
  write_npz_any(file, {object, npy_unicode("folder", ascii({"f"})), valence});
  std::string e = error_of(emotic(root), Split::train);
  CHECK(contains(e, file.string()));
  CHECK(contains(e, "'image'"));
  CHECK(contains(e, "object array"));

  // Byte strings (numpy 'S'), a numeric name array, a missing array, a 2-D array, mismatched lengths.
  io::NpyArray bytes{"folder", "|S1", {1}, {'f'}};
  write_npz_any(file, {npy_unicode("image", ascii({"a.jpg"})), bytes, valence});
  CHECK(contains(error_of(emotic(root), Split::train), "S1"));
  write_npz_any(file, {io::npy_f64("image", {1}, {1}), npy_unicode("folder", ascii({"f"})), valence});
  CHECK(contains(error_of(emotic(root), Split::train), "unicode"));
  write_npz_any(file, {npy_unicode("image", ascii({"a.jpg"})), valence});
  CHECK(contains(error_of(emotic(root), Split::train), "no array 'folder'"));
  write_npz_any(file, {npy_unicode("image", ascii({"a.jpg"})), npy_unicode("folder", ascii({"f"})), io::npy_f64("valence", {1, 1}, {5})});
  CHECK(contains(error_of(emotic(root), Split::train), "2 dimensions"));
  write_npz_any(file, {npy_unicode("image", ascii({"a.jpg", "b.jpg"})), npy_unicode("folder", ascii({"f"})), io::npy_f64("valence", {2}, {5, 5})});
  CHECK(contains(error_of(emotic(root), Split::train), "different lengths"));
  write_npz_any(file, {npy_unicode("image", ascii({"a.jpg"})), npy_unicode("folder", ascii({"f"})), npy_unicode("valence", ascii({"5"}))});
  CHECK(contains(error_of(emotic(root), Split::train), "expected numbers"));

  // Paths: an absolute image or folder (os.path.join would drop the root), an empty image name.
  write_annotations(root, "train", {"f"}, {"/etc/passwd"}, valence);
  CHECK(contains(error_of(emotic(root), Split::train), "absolute"));
  write_annotations(root, "train", {"/abs"}, {"a.jpg"}, valence);
  CHECK(contains(error_of(emotic(root), Split::train), "absolute"));
  write_annotations(root, "train", {"f"}, {""}, valence);
  CHECK(contains(error_of(emotic(root), Split::train), "empty image name"));

  // Non-ASCII names come back as UTF-8.
  write_npz_any(file, {npy_unicode("image", {U"\u00e9t\u00e9.jpg"}), npy_unicode("folder", {U"\u65e5\u672c"}), valence});
  const auto ok = list_split(emotic(root), Split::train);
  REQUIRE(ok.size() == 1);
  CHECK(ok[0].image == (root / "emotic" / "\xe6\x97\xa5\xe6\x9c\xac" / "\xc3\xa9t\xc3\xa9.jpg").string());
}

TEST_CASE("emotic list_split gives clear errors, no crash, for truncated and corrupted npz files") {
  test::TempDir dir("gler_emotic_trunc");
  const fs::path root = dir.path();
  write_annotations(root, "train", {"f", "g"}, {"a.jpg", "b.jpg"}, io::npy_f64("valence", {2}, {3, 9}));
  const fs::path file = annotations(root, "train");
  const std::string full = test::slurp(file);
  REQUIRE(list_split(emotic(root), Split::train).size() == 2);
  const auto write = [&](const std::string& bytes) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << bytes;
  };
  int refused = 0;
  for (std::size_t cut = 0; cut < full.size(); cut += 7) {
    CAPTURE(cut);
    write(full.substr(0, cut));
    const std::string e = error_of(emotic(root), Split::train);
    CHECK(contains(e, file.string()));
    refused += !e.empty();
  }
  CHECK(refused > 0);
  // Flipped bytes: each either still parses (then gives 2 entries or an error) or is refused; never a crash.
  for (std::size_t at = 0; at < full.size(); at += 5) {
    std::string bad = full;
    bad[at] = static_cast<char>(bad[at] ^ 0x5a);
    write(bad);
    try {
      list_split(emotic(root), Split::train);
    } catch (const Error&) {
    }
  }
}

TEST_CASE("emotic list_split reads numpy's own npz files (when /usr/bin/python3 has numpy)") {
  const std::string probe = std::string(GLER_PYTHON) + " -c 'import numpy' >/dev/null 2>&1";
  if (std::system(probe.c_str()) != 0) {
    MESSAGE("skipped: " GLER_PYTHON " cannot import numpy");
    return;
  }
  test::TempDir dir("gler_emotic_numpy");
  const fs::path root = dir.path();
  fs::create_directories(root / "emotic");
  const std::string script = (root / "make.py").string();
  {
    std::ofstream py(script);
    py << "import numpy as np, sys\n"
          "d = sys.argv[1]\n"
          "np.savez(d + '/train_annotations.npz', image=np.array(['a.jpg', 'long_name_\\u00fc.jpg', 'c.jpg']),\n"
          "         folder=np.array(['mscoco/images', 'emodb_small/images', 'x']), valence=np.array([4.0, 7.0, 8.0], dtype=np.float32))\n"
          "np.savez_compressed(d + '/val_annotations.npz', image=np.array(['a.jpg'], dtype=object),\n"
          "         folder=np.array(['f']), valence=np.array([5]))\n";
  }
  const std::string cmd = std::string(GLER_PYTHON) + " " + script + " " + (root / "emotic").string();
  REQUIRE(std::system(cmd.c_str()) == 0);
  const auto train = list_split(emotic(root), Split::train);
  REQUIRE(train.size() == 3);
  CHECK(train[0].image == (root / "emotic/mscoco/images/a.jpg").string());
  CHECK(train[1].image == (root / "emotic/emodb_small/images/long_name_\xc3\xbc.jpg").string());
  CHECK(train[0].label == 0);
  CHECK(train[1].label == 1);
  CHECK(train[2].label == 2);
  const std::string e = error_of(emotic(root), Split::val);
  CHECK(contains(e, "object array"));
}

TEST_CASE("prepare_example and the Loader over an EmotiC root: [B, 3, 224, 224] batches with valence labels") {
  test::TempDir dir("gler_emotic_loader");
  TinyEmotic set{dir.path(), {}, {}, {}};
  set.add("mscoco/images", "a.jpg", 2, test::pattern_image(320, 240, 3, 1));  // landscape
  set.add("mscoco/images", "b.jpg", 6, test::pattern_image(200, 260, 1, 2));  // greyscale, portrait, upscaled
  set.add("ade20k/images", "c.png", 9, test::pattern_image(230, 224, 4, 3));  // RGBA
  set.add("ade20k/images", "d.png", 5, test::pattern_image(224, 224, 3, 4));  // no resize, no crop
  set.add("emodb_small/images", "e.jpg", 10, test::pattern_image(500, 300, 3, 5));
  set.write("train");
  set.write("val");
  const DatasetOptions options = emotic_options(set.root);
  const std::vector<Example> examples = list_split(options, Split::train);
  REQUIRE(examples.size() == 5);
  const std::vector<std::int64_t> labels = {0, 1, 2, 1, 2};

  // prepare_example: the crop drawn from Generator(augment_seed), whatever `augment`.
  FaceCache cache(options);
  for (std::size_t i = 0; i < examples.size(); ++i) {
    CAPTURE(i);
    CHECK(examples[i].label == labels[i]);
    const io::Image decoded = io::read_image(examples[i].image);
    const FloatImage f = emotic_float_image(decoded);
    const ImageSize size = emotic_rescale_size(f.height, f.width);
    Generator gen(1234 + i);
    const CropOffset crop = draw_emotic_crop(size.height, size.width, gen);
    std::vector<float> expect(3 * 224 * 224);
    emotic_global_tensor(decoded, crop, expect.data());
    for (bool augment : {false, true}) {
      DatasetOptions o = options;
      o.augment = augment;
      const PreparedExample p = prepare_example(examples[i], o, cache, 1234 + i);
      REQUIRE(p.sample.has_value());
      CHECK(same_bits(p.sample->global, expect));
      CHECK(p.sample->width == decoded.width);
    }
    for (float v : expect) CHECK((v >= 0.0f && v <= 1.0f));
  }
  // The whole pipeline at the crop: CHW of the window of the whole resize.
  {
    const io::Image decoded = io::read_image(examples[0].image);
    const FloatImage f = emotic_float_image(decoded);
    const FloatImage whole = skimage_resize(f, 224, 298);
    std::vector<float> got(3 * 224 * 224), expect;
    emotic_global_tensor(decoded, CropOffset{0, 73}, got.data());
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 224; ++y)
        for (int x = 0; x < 224; ++x) expect.push_back(whole.at(y, x + 73, c));
    CHECK(same_bits(got, expect));
  }

  // A missing image is skipped, naming it; a face arch is refused.
  Example missing = examples[0];
  missing.image = (set.root / "emotic" / "nope.jpg").string();
  const PreparedExample skipped = prepare_example(missing, options, cache, 1);
  CHECK_FALSE(skipped.sample.has_value());
  CHECK(skipped.skipped.rfind(missing.image, 0) == 0);
  const DatasetOptions faces = emotic_options(set.root, "attention_a");
  FaceCache face_cache(faces);
  CHECK_THROWS_AS(prepare_example(examples[0], faces, face_cache, 1), Error);

  // The Loader: batches of 2, 2, 1; images [B, 3, 224, 224]; the same bits with 0 or 2 workers.
  std::vector<std::vector<float>> first;
  for (int workers : {0, 2}) {
    LoaderOptions lo;
    lo.batch = 2;
    lo.workers = workers;
    lo.seed = 7;
    Loader loader(examples, options, lo);
    CHECK(loader.batches_per_epoch() == 3);
    std::size_t k = 0;  // batches so far, over both epochs
    for (std::int64_t epoch = 0; epoch < 2; ++epoch) {
      loader.start_epoch(epoch);
      std::size_t seen = 0;
      while (std::optional<Batch> b = loader.next()) {
        CHECK(b->skipped.empty());
        const std::int64_t n = b->size();
        CHECK(b->input.images.shape() == Shape({n, 3, 224, 224}));
        CHECK(b->labels.shape() == Shape({n}));
        const std::vector<std::int64_t> got = b->labels.to_vector<std::int64_t>();
        for (std::int64_t j = 0; j < n; ++j) CHECK(got[static_cast<std::size_t>(j)] == labels[b->indices[static_cast<std::size_t>(j)]]);
        CHECK_FALSE(b->input.faces.defined());
        const std::vector<float> pixels = b->input.images.to_vector<float>();
        if (workers == 0) first.push_back(pixels);
        else CHECK(same_bits(pixels, first[k]));
        ++k;
        seen += static_cast<std::size_t>(n);
      }
      CHECK(seen == examples.size());
    }
  }
  // Validation: list_split(val) serves the same way (the seed crops at random there too).
  const std::vector<Example> val = list_split(options, Split::val);
  LoaderOptions lo;
  lo.batch = 8;
  lo.workers = 0;
  lo.shuffle = false;
  Loader loader(val, options, lo);
  loader.start_epoch(0);
  const std::optional<Batch> b = loader.next();
  REQUIRE(b.has_value());
  CHECK(b->input.images.shape() == Shape({5, 3, 224, 224}));
  CHECK(b->labels.to_vector<std::int64_t>() == labels);
}
