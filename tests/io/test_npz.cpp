// io/npz: files numpy.load reads back bit for bit (names, dtypes, shapes, values, CRCs), written
// atomically and deterministically.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/error.h"
#include "io/files.h"
#include "io/json.h"
#include "io/npz.h"
#include "tests/support/run_cli.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using namespace gler::io;

namespace {

const gler::test::TempDir kScratch("gler_test_npz");
const fs::path& kTmp = kScratch.path();

// numpy's view of an npz: {name: {"dtype", "shape", "values" (repr of each element, exact)}} plus
// "crc_ok" from zipfile.testzip, which re-reads every member and checks its CRC-32.
gler::json::Value numpy_load(const fs::path& npz) {
  const fs::path script = kTmp / "load.py";
  std::ofstream(script) << R"(import json, sys, zipfile
import numpy as np
path = sys.argv[1]
out = {"crc_ok": zipfile.ZipFile(path).testzip() is None, "arrays": {}}
with np.load(path, allow_pickle=False) as f:
    for k in f.files:
        a = f[k]
        out["arrays"][k] = {"dtype": a.dtype.str, "shape": list(a.shape), "values": [repr(float(v)) for v in a.reshape(-1)]}
print(json.dumps(out))
)";
  const gler::test::CliRun r = gler::test::run_cli(std::string(GLER_PYTHON) + " " + script.string() + " " + npz.string());
  INFO(r.out);
  REQUIRE(r.status == 0);
  return gler::json::parse(r.out);
}

template <typename T>
void check_array(const gler::json::Value& arrays, const std::string& name, const std::string& dtype,
                 const std::vector<long long>& shape, const std::vector<T>& values) {
  CAPTURE(name);
  const gler::json::Value& a = arrays.at(name);
  CHECK(a.at("dtype").as_string() == dtype);
  const gler::json::Array& s = a.at("shape").as_array();
  REQUIRE(s.size() == shape.size());
  for (std::size_t i = 0; i < shape.size(); ++i) CHECK(s[i].as_int() == shape[i]);
  const gler::json::Array& v = a.at("values").as_array();
  REQUIRE(v.size() == values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::string text = v[i].as_string();
    CAPTURE(text);
    CHECK(std::strtod(text.c_str(), nullptr) == static_cast<double>(values[i]));  // exact: the very float32/float64 value
  }
}

}  // namespace

TEST_CASE("npz: numpy reads names, dtypes, shapes and exact values back") {
  const std::vector<float> f = {0.1f, -3.25f, 1e-30f, std::numeric_limits<float>::max(), -0.0f, 7.0f};
  const std::vector<double> d = {0.1, 1.0 / 3.0, -2e300, 5e-324, 42.0};
  const fs::path path = kTmp / "mixed.npz";
  write_npz(path, {npy_f32("a", {2, 3}, f), npy_f64("b", {1, 5}, d), npy_f32("vector", {6}, f), npy_f64("scalar", {}, {2.5}),
                   npy_f32("empty", {0, 256}, {}), npy_f64("empty5", {0, 5}, {})});
  const gler::json::Value r = numpy_load(path);
  CHECK(r.at("crc_ok").as_bool());
  const gler::json::Value& arrays = r.at("arrays");
  CHECK(arrays.as_object().size() == 6);
  check_array(arrays, "a", "<f4", {2, 3}, f);
  check_array(arrays, "b", "<f8", {1, 5}, d);
  check_array(arrays, "vector", "<f4", {6}, f);
  check_array(arrays, "scalar", "<f8", {}, std::vector<double>{2.5});
  check_array(arrays, "empty", "<f4", {0, 256}, std::vector<float>{});
  check_array(arrays, "empty5", "<f8", {0, 5}, std::vector<double>{});
}

TEST_CASE("npz: a larger array and an archive with no members") {
  std::vector<float> big(3 * 256);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = std::sin(static_cast<float>(i)) * 100.0f;
  write_npz(kTmp / "big.npz", {npy_f32("a", {3, 256}, big)});
  const gler::json::Value r = numpy_load(kTmp / "big.npz");
  CHECK(r.at("crc_ok").as_bool());
  check_array(r.at("arrays"), "a", "<f4", {3, 256}, big);

  write_npz(kTmp / "none.npz", {});
  CHECK(numpy_load(kTmp / "none.npz").at("arrays").as_object().empty());
}

TEST_CASE("npz: .npy headers are numpy's format 1.0, data 64-byte aligned") {
  for (std::int64_t n : {0, 1, 7, 100, 1000}) {
    const std::vector<std::uint8_t> npy = encode_npy(npy_f64("x", {n, 3}, std::vector<double>(static_cast<std::size_t>(n * 3), 1.0)));
    CAPTURE(n);
    REQUIRE(npy.size() >= 10);
    CHECK(std::string(npy.begin(), npy.begin() + 6) == "\x93NUMPY");
    CHECK(npy[6] == 1);
    CHECK(npy[7] == 0);
    const std::size_t header = npy[8] | (npy[9] << 8);
    CHECK((10 + header) % 64 == 0);
    CHECK(npy[10 + header - 1] == '\n');
    CHECK(npy.size() == 10 + header + static_cast<std::size_t>(n) * 3 * 8);
  }
}

TEST_CASE("npz: equal arrays give byte-identical files; rewriting replaces atomically") {
  const std::vector<float> v = {1, 2, 3, 4};
  write_npz(kTmp / "one.npz", {npy_f32("a", {2, 2}, v)});
  write_npz(kTmp / "two.npz", {npy_f32("a", {2, 2}, v)});
  CHECK(gler::test::slurp(kTmp / "one.npz") == gler::test::slurp(kTmp / "two.npz"));

  write_npz(kTmp / "one.npz", {npy_f32("a", {4}, v), npy_f32("b", {1}, {9})});
  const gler::json::Value r = numpy_load(kTmp / "one.npz");
  check_array(r.at("arrays"), "a", "<f4", {4}, v);
  check_array(r.at("arrays"), "b", "<f4", {1}, std::vector<float>{9});
  for (const auto& e : fs::directory_iterator(kTmp)) CHECK(e.path().filename().string().find(".tmp") == std::string::npos);
}

TEST_CASE("npz: a shape that does not match the values, or a missing folder, is an error") {
  CHECK_THROWS_AS(npy_f32("a", {2, 3}, {1, 2, 3}), gler::Error);
  CHECK_THROWS_AS(npy_f64("a", {-1}, {}), gler::Error);
  CHECK_THROWS_WITH_AS(write_npz(kTmp / "no_such_folder" / "x.npz", {npy_f32("a", {1}, {1})}),
                       doctest::Contains("no_such_folder"), gler::Error);
}
