// Unit tests of the readers on hand-made inputs (no Python): pickle VM, zip, .npy, safetensors,
// name clean-up, and the architecture tables against SEED_STATE_DICT_KEYS.txt.
#include <doctest/doctest.h>
#include <zlib.h>

#include <cstring>
#include <fstream>
#include <regex>
#include <string>

#include "core/error.h"
#include "tests/import/test_util.h"
#include "weights_import/arch_specs.h"
#include "weights_import/byte_reader.h"
#include "weights_import/npy.h"
#include "weights_import/pickle_vm.h"
#include "weights_import/safetensors.h"
#include "weights_import/zip_reader.h"

using namespace gler::wi;
using gler::wi::test::error_of;
using Kind = Value::Kind;

namespace {

// A string literal with embedded NULs, its length taken from the array.
template <std::size_t N>
std::string lit(const char (&s)[N]) {
  return std::string(s, N - 1);
}

std::vector<std::uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }

Pickle run_pickle(const std::string& s) { return unpickle(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()); }

std::string u32le(std::uint32_t v) {
  return {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16), static_cast<char>(v >> 24)};
}
std::string u16le(std::uint16_t v) { return {static_cast<char>(v), static_cast<char>(v >> 8)}; }

// A minimal stored-entry zip writer, to build good and corrupted archives.
struct ZipEntrySpec {
  std::string name, data;
};
std::string u64le(std::uint64_t v) { return u32le(static_cast<std::uint32_t>(v)) + u32le(static_cast<std::uint32_t>(v >> 32)); }

// zip64: the central directory's sizes and offsets saturate and live in extra fields and the
// zip64 end record, as in PyTorch files over 4 GiB.
std::string make_zip(const std::vector<ZipEntrySpec>& entries, std::vector<std::size_t>* local_offsets = nullptr,
                     std::size_t* cd_start = nullptr, bool zip64 = false) {
  std::string out, cd;
  for (const auto& e : entries) {
    std::uint32_t crc = static_cast<std::uint32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(e.data.data()), static_cast<uInt>(e.data.size())));
    std::size_t off = out.size();
    if (local_offsets) local_offsets->push_back(off);
    auto sz = static_cast<std::uint32_t>(e.data.size());
    out += u32le(0x04034b50) + u16le(20) + u16le(0) + u16le(0) + u32le(0) + u32le(crc) + u32le(sz) + u32le(sz) +
           u16le(static_cast<std::uint16_t>(e.name.size())) + u16le(0) + e.name + e.data;
    std::uint32_t big = 0xFFFFFFFF;
    std::string extra = zip64 ? u16le(1) + u16le(24) + u64le(sz) + u64le(sz) + u64le(off) : "";
    cd += u32le(0x02014b50) + u16le(45) + u16le(45) + u16le(0) + u16le(0) + u32le(0) + u32le(crc) +
          u32le(zip64 ? big : sz) + u32le(zip64 ? big : sz) + u16le(static_cast<std::uint16_t>(e.name.size())) +
          u16le(static_cast<std::uint16_t>(extra.size())) + u16le(0) + u16le(0) + u16le(0) + u32le(0) +
          u32le(zip64 ? big : static_cast<std::uint32_t>(off)) + e.name + extra;
  }
  if (cd_start) *cd_start = out.size();
  std::size_t cd_off = out.size();
  out += cd;
  auto n = static_cast<std::uint16_t>(entries.size());
  if (zip64) {
    std::size_t rec = out.size();
    out += u32le(0x06064b50) + u64le(44) + u16le(45) + u16le(45) + u32le(0) + u32le(0) + u64le(n) + u64le(n) +
           u64le(cd.size()) + u64le(cd_off);
    out += u32le(0x07064b50) + u32le(0) + u64le(rec) + u32le(1);
    return out + u32le(0x06054b50) + u16le(0) + u16le(0) + u16le(0xFFFF) + u16le(0xFFFF) + u32le(0xFFFFFFFF) +
           u32le(0xFFFFFFFF) + u16le(0);
  }
  out += u32le(0x06054b50) + u16le(0) + u16le(0) + u16le(n) + u16le(n) + u32le(static_cast<std::uint32_t>(cd.size())) +
         u32le(static_cast<std::uint32_t>(cd_off)) + u16le(0);
  return out;
}

std::string npy_bytes(const std::string& header_dict, const std::string& data) {
  std::string h = header_dict;
  while ((10 + h.size() + 1) % 64) h += ' ';
  h += '\n';
  return lit("\x93NUMPY\x01\x00") + u16le(static_cast<std::uint16_t>(h.size())) + h + data;
}

}  // namespace

TEST_CASE("pickle: builds dicts, tuples, memo references and numbers") {
  // {'a': 1, 'b': (-1, 1.5, None)}, with the tuple memoised and fetched again as 'c'.
  std::string p = lit("\x80\x02}q\x00(X\x01\x00\x00\x00" "aK\x01X\x01\x00\x00\x00" "b\x8a\x01\xffG\x3f\xf8\x00\x00\x00\x00\x00\x00"
                      "N\x87q\x01X\x01\x00\x00\x00" "ch\x01u.");
  Pickle r = run_pickle(p);
  REQUIRE(r.root->kind == Kind::Dict);
  CHECK(r.root->get("a")->i == 1);
  const Value* t = r.root->get("b");
  REQUIRE(t->kind == Kind::Tuple);
  REQUIRE(t->items.size() == 3);
  CHECK(t->items[0]->i == -1);
  CHECK(t->items[1]->f == 1.5);
  CHECK(t->items[2]->kind == Kind::None);
  CHECK(r.root->get("c") == t);
  CHECK(r.consumed == p.size());
}

TEST_CASE("pickle: LONG1 sign extension and big integers") {
  CHECK(run_pickle(lit("\x8a\x02\x00\x80.")).root->i == -32768);
  CHECK(run_pickle(lit("\x8a\x02\xff\x7f.")).root->i == 32767);
  CHECK(run_pickle(lit("\x8a\x00.")).root->i == 0);
  CHECK(run_pickle(lit("\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.")).root->kind == Kind::BigInt);
}

TEST_CASE("pickle: refuses every global outside the whitelist, naming it") {
  CHECK(error_of([] { run_pickle(lit("\x80\x02" "cos\nsystem\nX\x02\x00\x00\x00ls\x85R.")); }).find("os.system") !=
        std::string::npos);
  CHECK(error_of([] { run_pickle(lit("\x80\x04\x8c\x08" "builtins\x8c\x04" "eval\x93.")); })
            .find("builtins.eval") != std::string::npos);
  CHECK(error_of([] { run_pickle("\x80\x02" "csubprocess\nPopen\n."); }).find("subprocess.Popen") != std::string::npos);
  CHECK(error_of([] { run_pickle("\x80\x02" "ctorch\nload\n."); }).find("torch.load") != std::string::npos);
  // Whitelisted classes only become inert objects.
  Pickle ok = run_pickle("\x80\x02" "ctorch.nn.modules.linear\nLinear\n)\x81}b.");
  CHECK(ok.root->kind == Kind::Object);
  CHECK(ok.root->s == "torch.nn.modules.linear.Linear");
}

TEST_CASE("pickle: malformed streams give errors") {
  for (std::string bad : {lit("\x80\x02" "a."), lit("\x80\x02X\xff\xff\x00\x00" "ab"),
                          lit("\xff"), lit("NN."), lit("\x80\x02h\x05."),
                          lit("\x80\x09N."), lit("(t("), lit(""),
                          lit("\x80\x02" "ccollections\nOrderedDict"), lit("N\x85R."),
                          lit("}NNs\x86."), lit("\x80\x02]N\x8f\x90.")}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(run_pickle(bad), gler::Error);
  }
}

TEST_CASE("pickle: a list holding itself does not loop or leak") {
  Pickle r = run_pickle(lit("\x80\x02]q\x00h\x00" "a."));
  REQUIRE(r.root->kind == Kind::List);
  CHECK(r.root->items[0] == r.root);
  CHECK_THROWS_AS(collect_tensors(*r.root), gler::Error);
}

TEST_CASE("pickle: value limit") {
  std::string many = "\x80\x02(" + std::string(1000, 'N') + "l.";
  PickleLimits limits;
  limits.max_values = 100;
  CHECK_THROWS_AS(unpickle(reinterpret_cast<const std::uint8_t*>(many.data()), many.size(), limits), gler::Error);
}

// torch._utils._rebuild_tensor_v2(('storage', torch.FloatStorage, '0', 'cuda:1', 6, None), 0, size,
// stride, False, None), size and stride given as pickle text.
std::string rebuild_tensor(const std::string& size, const std::string& stride) {
  return lit("\x80\x02" "ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\n"
             "X\x01\x00\x00\x00" "0X\x06\x00\x00\x00" "cuda:1K\x06Nt" "QK\x00") +
         size + stride + lit("\x89NtR.");
}

const TensorRef& tensor_of(const Pickle& p) {
  REQUIRE(p.root->kind == Kind::Tensor);
  return *p.root->tensor;
}

TEST_CASE("pickle: torch.Size (REDUCE or NEWOBJ), lists and range objects are shapes") {
  const std::string size23 = lit("K\x02K\x03\x86"), stride31 = lit("K\x03K\x01\x86");
  const std::string torch_size = "ctorch\nSize\n" + size23 + lit("\x85");
  for (const std::string& size : {size23, torch_size + "R", torch_size + lit("\x81"), lit("](K\x02K\x03" "e")}) {
    CAPTURE(size);
    Pickle p = run_pickle(rebuild_tensor(size, stride31));
    CHECK(tensor_of(p).shape == std::vector<std::int64_t>{2, 3});
    CHECK(tensor_of(p).stride == std::vector<std::int64_t>{3, 1});
  }
  // range(3, 0, -2) == (3, 1); range(2) == (0, 1); an empty range is a 0-d shape.
  const std::string xrange = "c__builtin__\nxrange\n";
  Pickle r = run_pickle(rebuild_tensor(size23, xrange + lit("K\x03K\x00J\xfe\xff\xff\xff\x87R")));
  CHECK(tensor_of(r).stride == std::vector<std::int64_t>{3, 1});
  r = run_pickle(rebuild_tensor("cbuiltins\nrange\n" + lit("K\x02\x85R"), stride31));
  CHECK(tensor_of(r).shape == std::vector<std::int64_t>{0, 1});
  r = run_pickle(rebuild_tensor(xrange + lit("K\x05K\x05\x86R"), ")"));
  CHECK(tensor_of(r).shape.empty());

  auto fails = [&](const std::string& size, const std::string& needle) {
    CAPTURE(size);
    std::string msg = error_of([&] { run_pickle(rebuild_tensor(size, stride31)); });
    CAPTURE(msg);
    CHECK(msg.find(needle) != std::string::npos);
  };
  fails(lit("X\x03\x00\x00\x00" "2,3"), "tensor size must be a tuple of ints (got: str)");
  fails("ctorch\nSize\n" + lit("K\x02G\x40\x08\x00\x00\x00\x00\x00\x00\x86\x85\x81"), "(got: a float inside)");
  fails("ctorch\nSize\n" + lit("K\x02\x85\x81"), "torch.Size expects one tuple");
  fails("ctorch\nSize\n" + lit(")R"), "torch.Size expects one tuple");
  fails(xrange + lit("K\x00\x8a\x05\x00\x00\x00\x00\x01\x86R"), "more than 32 dimensions");  // range(0, 2**32)
  fails(xrange + lit("K\x00K\x02K\x00\x87R"), "step is zero");
  fails(xrange + lit("X\x01\x00\x00\x00" "a\x85R"), "range() of a str");
  fails("ctorch\ndevice\n" + lit("X\x03\x00\x00\x00" "cpu\x85R"), "(got: object torch.device)");
}

TEST_CASE("pickle: a dict's BUILD state is its attributes, not items (a state dict's _metadata)") {
  // OrderedDict() with 'w': 1 set, then BUILD {'_metadata': {'': 1}}.
  Pickle p = run_pickle(lit("\x80\x02" "ccollections\nOrderedDict\n)RX\x01\x00\x00\x00wK\x01s}X\x09\x00\x00\x00_metadata}"
                            "X\x00\x00\x00\x00K\x01ssb."));
  REQUIRE(p.root->kind == Kind::Dict);
  CHECK(p.root->items.size() == 2);
  CHECK(p.root->get("w")->i == 1);
  CHECK(p.root->get("_metadata") == nullptr);
}

TEST_CASE("zip: reads stored entries and rejects corrupt directories") {
  std::vector<std::size_t> offsets;
  std::size_t cd = 0;
  std::string z = make_zip({{"a/data.pkl", "hello"}, {"a/data/0", std::string(100, 'x')}}, &offsets, &cd);
  auto b = bytes(z);
  ZipReader zip(b.data(), b.size());
  REQUIRE(zip.entries().size() == 2);
  auto s = zip.stored(*zip.find("a/data.pkl"));
  CHECK(std::string(s.begin(), s.end()) == "hello");
  CHECK(zip.read(*zip.find("a/data/0")).size() == 100);
  CHECK(zip.find("nope") == nullptr);

  auto patch_offset = [&](std::uint32_t v) {
    std::string c = z;
    std::size_t second = c.find(lit("PK\x01\x02"), cd + 1);
    c.replace(second + 42, 4, u32le(v));
    return bytes(c);
  };
  auto overlap = patch_offset(0);
  CHECK(error_of([&] { ZipReader(overlap.data(), overlap.size()); }).find("overlap") != std::string::npos);
  auto outside = patch_offset(0xFFFFFF00u);
  CHECK_THROWS_AS(ZipReader(outside.data(), outside.size()), gler::Error);
  auto into_cd = patch_offset(static_cast<std::uint32_t>(cd - 10));
  CHECK_THROWS_AS(ZipReader(into_cd.data(), into_cd.size()), gler::Error);

  std::string corrupt = z;
  corrupt[offsets[0] + 30 + 10] ^= 1;  // first byte of "hello"
  auto c = bytes(corrupt);
  ZipReader bad_crc(c.data(), c.size());
  CHECK(error_of([&] { bad_crc.read(*bad_crc.find("a/data.pkl")); }).find("CRC") != std::string::npos);

  for (std::size_t n = 0; n < b.size(); ++n) {
    CAPTURE(n);
    CHECK_THROWS_AS(ZipReader(b.data(), n), gler::Error);
  }
}

TEST_CASE("zip: zip64 directories") {
  std::string z = make_zip({{"archive/data.pkl", "pickle"}, {"archive/data/0", std::string(40, 'w')}}, nullptr, nullptr, true);
  auto b = bytes(z);
  ZipReader zip(b.data(), b.size());
  REQUIRE(zip.entries().size() == 2);
  CHECK(zip.find("archive/data/0")->size == 40);
  auto s = zip.stored(*zip.find("archive/data.pkl"));
  CHECK(std::string(s.begin(), s.end()) == "pickle");
  for (std::size_t n = 0; n < b.size(); ++n) CHECK_THROWS_AS(ZipReader(b.data(), n), gler::Error);
  std::string no_extra = z;  // saturated fields without their zip64 extra field
  no_extra.replace(no_extra.find(std::string("\x01\x00\x18\x00", 4)), 2, u16le(0x9999));
  auto c = bytes(no_extra);
  CHECK(error_of([&] { ZipReader(c.data(), c.size()); }).find("zip64") != std::string::npos);
}

TEST_CASE("npy: headers, byte order, unicode, and refusals") {
  std::string f32 = npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", lit("\0\0\x80?\0\0\0@"));
  auto b = bytes(f32);
  NdArray a = parse_npy(b.data(), b.size());
  CHECK(a.descr == "<f4");
  CHECK(a.shape == std::vector<std::int64_t>{2});
  float v[2];
  std::memcpy(v, a.data.data(), 8);
  CHECK(v[0] == 1.0f);
  CHECK(v[1] == 2.0f);

  std::string be = npy_bytes("{'descr': '>i2', 'fortran_order': False, 'shape': (), }", lit("\x01\x02"));
  b = bytes(be);
  a = parse_npy(b.data(), b.size());
  CHECK(a.descr == "<i2");
  CHECK(a.data == std::vector<std::uint8_t>{2, 1});

  std::string u = npy_bytes("{'descr': '<U2', 'fortran_order': False, 'shape': (2,), }",
                            lit("h\0\0\0i\0\0\0\xe9\0\0\0\0\0\0\0"));
  b = bytes(u);
  a = parse_npy(b.data(), b.size());
  CHECK(a.strings == std::vector<std::string>{"hi", "\xc3\xa9"});

  for (std::string h : {"{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }",
                        "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }",
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }",
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }",
                        "{'descr': '<f4', 'fortran_order': False }", "{'descr': '<x4', 'fortran_order': False, 'shape': (2,)}",
                        "not a dict"}) {
    CAPTURE(h);
    auto bad = bytes(npy_bytes(h, std::string(8, '\0')));
    CHECK_THROWS_AS(parse_npy(bad.data(), bad.size()), gler::Error);
  }
  b = bytes(f32);
  for (std::size_t n = 0; n < b.size(); ++n) CHECK_THROWS_AS(parse_npy(b.data(), n), gler::Error);
}

TEST_CASE("safetensors: round trip, Python-compatible layout, hostile headers") {
  StateDict sd;
  sd.metadata = {{"arch", "local"}, {"note", "quote\" and \\ back"}};
  sd.add("b.weight", {"F32", {2, 2}, {0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64}});
  sd.add("a.count", {"I64", {}, {7, 0, 0, 0, 0, 0, 0, 0}});
  sd.add("c.half", {"F16", {1}, {0, 60}});
  sd.add("d.empty", {"F32", {0, 3}, {}});
  auto dir = gler::wi::test::make_temp_dir("st");
  std::string path = (dir / "x.safetensors").string();
  write_safetensors(path, sd);
  auto raw = read_file_bytes(path);
  std::uint64_t header = 0;
  std::memcpy(&header, raw.data(), 8);
  CHECK(header % 8 == 0);
  StateDict back = read_safetensors(path);
  CHECK(back.metadata == sd.metadata);
  REQUIRE(back.entries.size() == sd.entries.size());
  for (std::size_t i = 0; i < sd.entries.size(); ++i) {
    CHECK(back.entries[i].first == sd.entries[i].first);
    CHECK(back.entries[i].second.dtype == sd.entries[i].second.dtype);
    CHECK(back.entries[i].second.shape == sd.entries[i].second.shape);
    CHECK(back.entries[i].second.data == sd.entries[i].second.data);
  }
  auto parse = [](const std::string& json, std::size_t data) {
    std::string f(8, '\0');
    std::uint64_t n = json.size();
    std::memcpy(f.data(), &n, 8);
    f += json + std::string(data, '\0');
    auto b = bytes(f);
    return parse_safetensors(b.data(), b.size());
  };
  CHECK(parse(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8).entries.size() == 1);
  for (std::string bad : std::vector<std::string>{R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",  // 4 bytes of data only
                          R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,4]}})",
                          R"({"w":{"dtype":"X9","shape":[1],"data_offsets":[0,4]}})",
                          R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})",
                          R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})",
                          R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                          R"({"v":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                          R"({"w":{"dtype":"F32","shape":[1]}})", R"({"w":)", R"([1,2])", R"({"__metadata__":{"a":1}})",
                          R"({"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}})",
                          R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0.5,4]}})",
                          R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})",
                          R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,9007199254740993]}})",
                          R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}})",
                          R"({"w":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}})",
                          R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}} x)",
                          std::string(5000, '[') + std::string(5000, ']'), std::string(100000, '[')}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(parse(bad, 4), gler::Error);
  }
  CHECK(error_of([&] { parse(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4.5]}})", 4); }) ==
        "safetensors: tensor 'w' has bad data_offsets");
  CHECK(error_of([&] { parse(R"({"w":1,"w":2})", 4); }).find("safetensors: malformed JSON header (json: duplicate key") == 0);
}

TEST_CASE("safetensors: the header is compact JSON with plain integers, padded to 8 bytes") {
  StateDict sd;
  sd.metadata = {{"arch", "local"}};
  sd.add("w", {"F32", {25000}, std::vector<std::uint8_t>(100000)});  // an offset the shortest double form writes as 1e+05
  auto dir = gler::wi::test::make_temp_dir("st");
  std::string path = (dir / "w.safetensors").string();
  write_safetensors(path, sd);
  auto raw = read_file_bytes(path);
  std::string want = R"({"__metadata__":{"arch":"local"},"w":{"dtype":"F32","shape":[25000],"data_offsets":[0,100000]}})";
  want.append((8 - want.size() % 8) % 8, ' ');
  REQUIRE(raw.size() == 8 + want.size() + 100000);
  std::uint64_t header = 0;
  std::memcpy(&header, raw.data(), 8);
  CHECK(header == want.size());
  CHECK(std::string(raw.begin() + 8, raw.begin() + 8 + static_cast<std::ptrdiff_t>(want.size())) == want);
  std::filesystem::remove_all(dir);
}

TEST_CASE("names: DataParallel prefix, old DenseNet names, non_align_model") {
  CHECK(normalize_name("module.features.denseblock2.denselayer11.norm.1.running_var") ==
        "features.denseblock2.denselayer11.norm1.running_var");
  CHECK(normalize_name("module.global_model.denseblock1.denselayer1.conv.2.weight") ==
        "global_model.denseblock1.denselayer1.conv2.weight");
  CHECK(normalize_name("features.transition1.norm.weight") == "features.transition1.norm.weight");
  CHECK(normalize_name("module.non_align_model.conv1_1.weight") == "align_model.conv1_1.weight");
  CHECK(normalize_name("fc6.weight") == "fc6.weight");
}

namespace {

struct SeedSection {
  std::string title;
  StateDict sd;
};

// SEED_STATE_DICT_KEYS.txt: "### Title" lines, then "[module.]name (d0, d1)" lines.
std::vector<SeedSection> seed_sections(bool with_num_batches_tracked) {
  std::ifstream f(std::string(GLER_SOURCE_DIR) + "/data/seed/state_dict_keys.txt");
  REQUIRE(f);
  std::vector<SeedSection> out;
  std::string line;
  std::regex entry(R"(^(\S+) \(([0-9, ]*)\)$)");
  while (std::getline(f, line)) {
    if (line.rfind("### ", 0) == 0) {
      out.push_back({line.substr(4, line.find(':') - 4), {}});
      continue;
    }
    std::smatch m;
    if (out.empty() || !std::regex_match(line, m, entry)) continue;
    std::string name = m[1];
    if (name.rfind("[module.]", 0) == 0) name = "module." + name.substr(9);
    if (!with_num_batches_tracked && name.ends_with("num_batches_tracked")) continue;
    TensorData t;
    t.dtype = "F32";
    std::stringstream dims(m[2]);
    std::string d;
    while (std::getline(dims, d, ','))
      if (d.find_first_not_of(' ') != std::string::npos) t.shape.push_back(std::stoll(d));
    out.back().sd.add(normalize_name(name), std::move(t));
  }
  return out;
}

}  // namespace

TEST_CASE("arch specs: every seed checkpoint layout is recognised and accepted") {
  const std::map<std::string, std::string> arch_of = {
      {"Global_Simple", "global"},           {"Global_EmotiC", "global"},           {"Local", "local"},
      {"Base for LSoftmax", "local"},        {"Local_FineTune / br128", "local"},   {"Local_FineTune_LSoftmax", "local"},
      {"Average", "average"},                {"Attention_A", "attention_a"},        {"Attention_B", "attention_b"},
      {"Attention_B_EmotiC", "attention_b"}, {"Attention_C (and 4para_adam)", "attention_c"},
      {"Attention_C_EmotiC (and 4para_lr01_..._EmotiC)", "attention_c"}};
  for (bool nbt : {true, false}) {
    auto sections = seed_sections(nbt);
    CHECK(sections.size() == arch_of.size());
    for (auto& s : sections) {
      CAPTURE(s.title);
      CAPTURE(nbt);
      REQUIRE(arch_of.count(s.title));
      CHECK(infer_arch(s.sd) == arch_of.at(s.title));
      StateDict sd = s.sd;
      CHECK_NOTHROW(conform_to_arch(sd, arch_of.at(s.title)));
      CHECK(sd.metadata["arch"] == arch_of.at(s.title));
      if (s.title.find("EmotiC") != std::string::npos && s.title.rfind("Attention", 0) == 0) CHECK(sd.metadata["emotic"] == "1");
      if (s.title.find("LSoftmax") != std::string::npos) CHECK(sd.metadata["fc6"] == "lsoftmax");
      if (arch_of.at(s.title) == "local") CHECK(sd.has("conv1_1.weight"));
    }
  }
}

TEST_CASE("arch specs: missing, unexpected and mis-shaped tensors are all listed") {
  auto sections = seed_sections(true);
  StateDict sd = sections[0].sd;  // Global_Simple
  sd.entries.erase(sd.entries.begin() + 3);  // features.norm0.running_mean
  sd.entries[0].second.shape = {96, 3, 5, 5};
  sd.add("extra.weight", {"F32", {1}, {}});
  std::string msg = error_of([&] { conform_to_arch(sd, "global"); });
  CHECK(msg.find("1 missing [features.norm0.running_mean]") != std::string::npos);
  CHECK(msg.find("1 unexpected [extra.weight]") != std::string::npos);
  CHECK(msg.find("features.conv0.weight (96, 3, 5, 5) (expected (96, 3, 7, 7))") != std::string::npos);
  CHECK_THROWS_AS(conform_to_arch(sections[0].sd, "densenet121"), gler::Error);
  CHECK_THROWS_AS(conform_to_arch(sections[0].sd, "resnet50"), gler::Error);
  StateDict empty;
  empty.add("foo", {"F32", {1}, {}});
  CHECK_THROWS_AS(infer_arch(empty), gler::Error);
}

TEST_CASE("arch specs: torchvision DenseNets of every depth") {
  auto sections = seed_sections(true);
  StateDict g = sections[0].sd;
  StateDict d161 = g;
  conform_to_arch(d161, "densenet161");
  CHECK(d161.metadata["num_classes"] == "3");
  CHECK(d161.metadata["block_config"] == "6,12,36,24");
}

TEST_CASE("npy: to_tensor converts numeric arrays") {
  NdArray h;
  h.descr = "<f2";
  h.shape = {2};
  h.data = {0x00, 0x3c, 0x00, 0xc0};  // 1.0, -2.0
  CHECK(to_tensor(h, gler::DType::f32).to_vector<float>() == std::vector<float>{1.0f, -2.0f});
  NdArray i;
  i.descr = "<i4";
  i.shape = {1, 2};
  i.data = {0xff, 0xff, 0xff, 0xff, 7, 0, 0, 0};
  gler::Tensor t = to_tensor(i, gler::DType::i64);
  CHECK(t.shape() == gler::Shape{1, 2});
  CHECK(t.to_vector<std::int64_t>() == std::vector<std::int64_t>{-1, 7});
  NdArray s;
  s.descr = "<U3";
  s.shape = {1};
  s.strings = {"abc"};
  CHECK_THROWS_AS(to_tensor(s, gler::DType::f32), gler::Error);
}
