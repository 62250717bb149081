// The TF.js weights reader on hand-made manifests and shards: float32, int32 and bool weights,
// uint8/uint16/float16 quantisation dequantised as tfjs-core's decodeWeights does, weights split
// across shards and groups, hostile manifests and truncated shards, the conversion to PyTorch's
// layouts, and gler_import's path for the face_expression arch. (face-api's real weights against
// tfjs itself: tests/models/test_face_expression_parity.)
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>

#include "core/half.h"
#include "tests/import/test_util.h"
#include "weights_import/byte_reader.h"
#include "weights_import/import_source.h"
#include "weights_import/tfjs_manifest.h"

using namespace gler::wi;
using gler::wi::test::error_of;

namespace {

using Bytes = std::vector<std::uint8_t>;

template <class T>
Bytes bytes_of(const std::vector<T>& v) {
  Bytes b(v.size() * sizeof(T));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

template <class T>
std::vector<T> values_of(const TensorData& t) {
  std::vector<T> v(t.data.size() / sizeof(T));
  std::memcpy(v.data(), t.data.data(), t.data.size());
  return v;
}

Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Shards held in memory; a path not there is an error, as a missing file is.
struct Shards {
  std::map<std::string, Bytes> files;
  ShardReader reader() const {
    return [this](const std::string& p) {
      auto it = files.find(p);
      GLER_CHECK(it != files.end(), "no shard " << p);
      return it->second;
    };
  }
};

StateDict parse(const std::string& manifest, const Shards& shards) { return parse_tfjs_manifest(manifest, shards.reader()); }

std::string manifest_error(const std::string& manifest, const Shards& shards = {}) {
  return error_of([&] { parse(manifest, shards); });
}

}  // namespace

TEST_CASE("tfjs: float32, int32 and bool weights back to back, split across shards and groups") {
  const std::vector<float> a{1.5f, -2.25f, 3.0f, 1e-30f, -0.0f, 7.0f};
  const std::vector<std::int32_t> b{-7, 2147483647};
  const Bytes c{1, 0, 1};
  const Bytes group0 = cat(cat(bytes_of(a), bytes_of(b)), c);
  Shards shards;
  // A weight straddles the two shards of group 0.
  shards.files["g0-1of2.bin"] = Bytes(group0.begin(), group0.begin() + 10);
  shards.files["g0-2of2.bin"] = Bytes(group0.begin() + 10, group0.end());
  shards.files["g1.bin"] = bytes_of(std::vector<float>{42.0f});
  const StateDict sd = parse(R"([
    {"paths": ["g0-1of2.bin", "g0-2of2.bin"], "weights": [
      {"name": "x/a", "shape": [2, 3], "dtype": "float32"},
      {"name": "x/b", "shape": [2], "dtype": "int32"},
      {"name": "x/c", "shape": [3], "dtype": "bool"}]},
    {"paths": ["g1.bin"], "weights": [{"name": "scalar", "shape": [], "dtype": "float32"}]}])",
                             shards);
  CHECK(sd.format == SourceFormat::tfjs);
  REQUIRE(sd.entries.size() == 4);
  CHECK(sd.entries[0].first == "x/a");
  CHECK(sd.entries[0].second.dtype == "F32");
  CHECK(sd.entries[0].second.shape == std::vector<std::int64_t>{2, 3});
  CHECK(sd.entries[0].second.data == bytes_of(a));
  CHECK(sd.entries[1].second.dtype == "I32");
  CHECK(values_of<std::int32_t>(sd.entries[1].second) == b);
  CHECK(sd.entries[2].second.dtype == "BOOL");
  CHECK(sd.entries[2].second.data == c);
  CHECK(sd.entries[3].second.shape.empty());
  CHECK(values_of<float>(sd.entries[3].second) == std::vector<float>{42.0f});
  // A model.json holds the same list under weightsManifest.
  const StateDict model = parse(R"({"modelTopology": {}, "weightsManifest": [{"paths": ["g1.bin"],
                                    "weights": [{"name": "s", "shape": [1], "dtype": "float32"}]}]})",
                                shards);
  CHECK(model.entries.size() == 1);
}

TEST_CASE("tfjs: uint8/uint16 quantisation is float32(q * scale + min) in double; int32 rounds as Math.round") {
  // face-api's dense0/conv0/filters constants: float arithmetic would round twice and differ.
  const double scale = 0.0057930146946626555, min = -0.7125408074435067;
  Shards shards;
  shards.files["q8.bin"] = {0, 1, 19, 255};
  shards.files["q16.bin"] = bytes_of(std::vector<std::uint16_t>{0, 1, 40000, 65535});
  shards.files["qi.bin"] = {0, 1, 2, 3, 4, 5};
  const StateDict sd = parse(R"([
    {"paths": ["q8.bin"], "weights": [{"name": "q8", "shape": [4], "dtype": "float32",
      "quantization": {"dtype": "uint8", "scale": 0.0057930146946626555, "min": -0.7125408074435067}}]},
    {"paths": ["q16.bin"], "weights": [{"name": "q16", "shape": [2, 2], "dtype": "float32",
      "quantization": {"dtype": "uint16", "scale": 0.0057930146946626555, "min": -0.7125408074435067,
                       "original_dtype": "float32"}}]},
    {"paths": ["qi.bin"], "weights": [{"name": "qi", "shape": [6], "dtype": "int32",
      "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1.5}}]}])",
                             shards);
  std::vector<float> want8, want16;
  for (int q : {0, 1, 19, 255}) want8.push_back(static_cast<float>(q * scale + min));
  for (int q : {0, 1, 40000, 65535}) want16.push_back(static_cast<float>(q * scale + min));
  CHECK(values_of<float>(sd.entries[0].second) == want8);
  CHECK(values_of<float>(sd.entries[1].second) == want16);
  CHECK(sd.entries[1].second.shape == std::vector<std::int64_t>{2, 2});
  CHECK(values_of<float>(sd.entries[0].second)[2] != 19.0f * static_cast<float>(scale) + static_cast<float>(min));
  // -1.5, -1, -0.5, 0, 0.5, 1: Math.round takes halves towards +infinity.
  CHECK(values_of<std::int32_t>(sd.entries[2].second) == std::vector<std::int32_t>{-1, -1, 0, 0, 1, 1});
}

TEST_CASE("tfjs: float16 quantisation widens exactly (subnormals, infinities, signed zero)") {
  const std::vector<std::uint16_t> halves{0x3C00, 0xC000, 0x0001, 0x7C00, 0xFC00, 0x8000, 0x7BFF, 0x3555};
  Shards shards;
  shards.files["h.bin"] = bytes_of(halves);
  const StateDict sd = parse(R"([{"paths": ["h.bin"], "weights": [{"name": "h", "shape": [8], "dtype": "float32",
                                 "quantization": {"dtype": "float16"}}]}])",
                             shards);
  const std::vector<float> v = values_of<float>(sd.entries[0].second);
  CHECK(v[0] == 1.0f);
  CHECK(v[1] == -2.0f);
  CHECK(v[2] == std::ldexp(1.0f, -24));
  CHECK(std::isinf(v[3]));
  CHECK(v[3] > 0);
  CHECK(std::isinf(v[4]));
  CHECK(v[4] < 0);
  CHECK(std::signbit(v[5]));
  CHECK(v[5] == 0.0f);
  CHECK(v[6] == 65504.0f);
  CHECK(v[7] == gler::f16_to_float(gler::f16_t{0x3555}));
}

TEST_CASE("tfjs: hostile manifests and truncated shards are errors naming what is wrong") {
  Shards shards;
  shards.files["four.bin"] = Bytes(4, 0);
  shards.files["eight.bin"] = Bytes(8, 0);
  const std::string w = R"("weights": [{"name": "w", "shape": [1], "dtype": "float32"}])";
  CHECK(manifest_error("[{").find("json") != std::string::npos);
  CHECK(manifest_error(R"({"weights": []})").find("weightsManifest") != std::string::npos);
  CHECK(manifest_error("3").find("list of groups") != std::string::npos);
  CHECK(manifest_error("[7]").find("group 0") != std::string::npos);
  CHECK(manifest_error(R"([{"paths": []}])").find("weights") != std::string::npos);
  CHECK(manifest_error(R"([{"paths": [], "weights": [{"shape": [1], "dtype": "float32"}]}])").find("name") !=
        std::string::npos);
  CHECK(manifest_error(R"([{"paths": [], "weights": [{"name": "", "shape": [], "dtype": "float32"}]}])").find("empty name") !=
        std::string::npos);
  for (const char* shape : {"[-1]", "[1.5]", "[\"2\"]", "[1e300]"})
    CHECK(manifest_error(std::string(R"([{"paths": [], "weights": [{"name": "w", "shape": )") + shape +
                         R"(, "dtype": "float32"}]}])")
              .find("weight 'w'") != std::string::npos);
  // Sizes that overflow are refused before any shard is read.
  CHECK(manifest_error(R"([{"paths": ["four.bin"], "weights": [{"name": "w", "shape": [4294967296, 4294967296, 8],
                           "dtype": "float32"}]}])",
                       shards)
            .find("overflows") != std::string::npos);
  CHECK(manifest_error(R"([{"paths": ["four.bin"], "weights": [{"name": "w", "shape": [1073741824, 1073741824, 4],
                           "dtype": "float32"}]}])",
                       shards)
            .find("too large") != std::string::npos);
  CHECK(manifest_error(R"([{"paths": ["four.bin"], "weights": [{"name": "w", "shape": [1], "dtype": "string"}]}])", shards)
            .find("unsupported dtype 'string'") != std::string::npos);
  CHECK(manifest_error(R"([{"paths": ["four.bin"], "weights": [{"name": "w", "shape": [1], "dtype": "complex64"}]}])", shards)
            .find("complex64") != std::string::npos);
  const auto quantised = [&](const std::string& dtype, const std::string& q) {
    return manifest_error(R"([{"paths": ["four.bin"], "weights": [{"name": "w", "shape": [4], "dtype": ")" + dtype +
                              R"(", "quantization": )" + q + "}]}]",
                          shards);
  };
  CHECK(quantised("float32", R"({"dtype": "int4", "scale": 1, "min": 0})").find("int4") != std::string::npos);
  CHECK(quantised("float32", R"({"dtype": "uint8", "scale": 1})").find("min") != std::string::npos);
  CHECK(quantised("int32", R"({"dtype": "float16"})").find("float16") != std::string::npos);
  CHECK(quantised("bool", R"({"dtype": "uint8", "scale": 1, "min": 0})").find("bool") != std::string::npos);
  CHECK(quantised("float32", R"({"dtype": "uint8", "scale": 1, "min": 0, "original_dtype": "int32"})").find("original_dtype") !=
        std::string::npos);
  // Names and shard paths.
  CHECK(manifest_error(R"([{"paths": ["eight.bin"], "weights": [{"name": "w", "shape": [1], "dtype": "float32"},
                           {"name": "w", "shape": [1], "dtype": "float32"}]}])",
                       shards)
            .find("twice") != std::string::npos);
  CHECK(manifest_error(R"([{"paths": ["four.bin"], )" + w + R"(}, {"paths": ["four.bin"], "weights": []}])", shards)
            .find("listed twice") != std::string::npos);
  for (const char* path : {"/etc/passwd", "../four.bin", "a/../../four.bin", "a/..", ""})
    CHECK(manifest_error(std::string(R"([{"paths": [")") + path + R"("], )" + w + "}]", shards).find("shard") !=
          std::string::npos);
  CHECK(manifest_error(R"([{"paths": ["missing.bin"], )" + w + "}]", shards).find("no shard missing.bin") !=
        std::string::npos);
  // Truncated and oversized shards.
  CHECK(manifest_error(R"([{"paths": ["four.bin"], "weights": [{"name": "w", "shape": [2], "dtype": "float32"}]}])", shards)
            .find("truncated: its weights take 8 bytes, the shards hold 4") != std::string::npos);
  CHECK(manifest_error(R"([{"paths": ["four.bin"], "weights": [{"name": "w", "shape": [4000000000000], "dtype": "float32"}]}])",
                       shards)
            .find("truncated") != std::string::npos);
  CHECK(manifest_error(R"([{"paths": ["eight.bin"], )" + w + "}]", shards).find("more than the 4 bytes") != std::string::npos);
  CHECK(manifest_error(R"([{"paths": ["four.bin", "eight.bin"], )" + w + "}]", shards).find("at shard 'eight.bin'") !=
        std::string::npos);
}

TEST_CASE("tfjs: conversion to PyTorch's layouts and names") {
  // filters (H=1, W=2, in=2, out=3), value = 1000h + 100w + 10i + o.
  std::vector<float> filters, depthwise, fc;
  for (int w = 0; w < 2; ++w)
    for (int i = 0; i < 2; ++i)
      for (int o = 0; o < 3; ++o) filters.push_back(static_cast<float>(100 * w + 10 * i + o));
  // depthwise (H=2, W=1, C=2, M=2), value = 1000h + 10c + m.
  for (int h = 0; h < 2; ++h)
    for (int c = 0; c < 2; ++c)
      for (int m = 0; m < 2; ++m) depthwise.push_back(static_cast<float>(1000 * h + 10 * c + m));
  for (int i = 0; i < 3; ++i)
    for (int o = 0; o < 2; ++o) fc.push_back(static_cast<float>(10 * i + o));
  const std::vector<float> pointwise{1, 2, 3, 4, 5, 6};  // (1, 1, in=2, out=3)
  auto tensor = [](std::vector<std::int64_t> shape, const std::vector<float>& v) { return TensorData{"F32", shape, bytes_of(v)}; };
  StateDict tf;
  tf.format = SourceFormat::tfjs;
  tf.add("block/conv/filters", tensor({1, 2, 2, 3}, filters));
  tf.add("block/conv/bias", tensor({3}, {7, 8, 9}));
  tf.add("block/sep/depthwise_filter", tensor({2, 1, 2, 2}, depthwise));
  tf.add("block/sep/pointwise_filter", tensor({1, 1, 2, 3}, pointwise));
  tf.add("block/sep/bias", tensor({3}, {1, 1, 1}));
  tf.add("fc/weights", tensor({3, 2}, fc));
  tf.add("fc/bias", tensor({2}, {0, 0}));
  tf.add("mean_rgb", tensor({3}, {1, 2, 3}));
  const StateDict pt = tfjs_to_torch(tf);
  std::vector<std::string> names;
  for (const auto& [n, t] : pt.entries) names.push_back(n);
  CHECK(names == std::vector<std::string>{"block.conv.weight", "block.conv.bias", "block.sep.depthwise.weight",
                                          "block.sep.pointwise.weight", "block.sep.pointwise.bias", "fc.weight", "fc.bias",
                                          "mean_rgb"});
  // OIHW: element (o, i, 0, w).
  const TensorData& conv = pt.entries[0].second;
  CHECK(conv.shape == std::vector<std::int64_t>{3, 2, 1, 2});
  const std::vector<float> cv = values_of<float>(conv);
  for (int o = 0; o < 3; ++o)
    for (int i = 0; i < 2; ++i)
      for (int w = 0; w < 2; ++w) CHECK(cv[static_cast<std::size_t>((o * 2 + i) * 2 + w)] == 100 * w + 10 * i + o);
  // (C·M, 1, H, W): output channel c·M + m.
  const TensorData& dw = pt.entries[2].second;
  CHECK(dw.shape == std::vector<std::int64_t>{4, 1, 2, 1});
  const std::vector<float> dv = values_of<float>(dw);
  for (int c = 0; c < 2; ++c)
    for (int m = 0; m < 2; ++m)
      for (int h = 0; h < 2; ++h) CHECK(dv[static_cast<std::size_t>((c * 2 + m) * 2 + h)] == 1000 * h + 10 * c + m);
  CHECK(pt.entries[3].second.shape == std::vector<std::int64_t>{3, 2, 1, 1});
  CHECK(values_of<float>(pt.entries[3].second) == std::vector<float>{1, 4, 2, 5, 3, 6});
  CHECK(pt.entries[5].second.shape == std::vector<std::int64_t>{2, 3});
  CHECK(values_of<float>(pt.entries[5].second) == std::vector<float>{0, 10, 20, 1, 11, 21});

  StateDict bad;
  bad.add("x/filters", tensor({2, 3}, {1, 2, 3, 4, 5, 6}));
  CHECK(error_of([&] { tfjs_to_torch(bad); }).find("expected (H, W, in, out)") != std::string::npos);
  StateDict clash;
  clash.add("x/weights", tensor({1, 1}, {1}));
  clash.add("x.weight", tensor({1, 1}, {1}));
  CHECK(error_of([&] { tfjs_to_torch(clash); }).find("already has") != std::string::npos);
}

TEST_CASE("tfjs: a face_expression manifest beside its shard imports as gler_import does it") {
  namespace fs = std::filesystem;
  const fs::path dir = gler::wi::test::make_temp_dir("tfjs");
  // face-api's manifest layout, zero weights, in one uint8-quantised shard; fc of `classes` outputs.
  auto write = [&](int classes) {
    std::string weights;
    std::size_t bytes = 0;
    auto add = [&](const std::string& name, std::vector<std::int64_t> shape) {
      std::string s;
      std::size_t n = 1;
      for (auto d : shape) {
        s += (s.empty() ? "" : ", ") + std::to_string(d);
        n *= static_cast<std::size_t>(d);
      }
      weights += (weights.empty() ? "" : ",\n") + std::string(R"({"name": ")") + name + R"(", "shape": [)" + s +
                 R"(], "dtype": "float32", "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1}})";
      bytes += n;
    };
    std::int64_t in = 3;
    for (int b = 0; b < 4; ++b) {
      const std::int64_t width = 32 << b;
      for (int k = 0; k < 4; ++k) {
        const std::string p = "dense" + std::to_string(b) + "/conv" + std::to_string(k) + "/";
        const std::int64_t cin = k == 0 ? in : width;
        if (b == 0 && k == 0) {
          add(p + "filters", {3, 3, cin, width});
        } else {
          add(p + "depthwise_filter", {3, 3, cin, 1});
          add(p + "pointwise_filter", {1, 1, cin, width});
        }
        add(p + "bias", {width});
      }
      in = width;
    }
    add("fc/weights", {256, classes});
    add("fc/bias", {classes});
    std::ofstream(dir / "m-weights_manifest.json") << R"([{"paths": ["m.bin"], "weights": [)" << weights << "]}]";
    std::ofstream(dir / "m.bin", std::ios::binary) << std::string(bytes, '\2');
  };
  write(7);
  const std::string manifest = (dir / "m-weights_manifest.json").string();
  CHECK(read_source(manifest).entries.front().first == "dense0/conv0/filters");
  const StateDict sd = import_checkpoint(manifest, "");
  CHECK(sd.metadata.at("arch") == "face_expression");
  CHECK(sd.metadata.at("classes") == "neutral,happy,sad,angry,fearful,disgusted,surprised");
  CHECK(sd.find("dense1.conv0.pointwise.bias") != nullptr);
  CHECK(values_of<float>(*sd.find("fc.weight")) == std::vector<float>(7 * 256, 0.0f));  // 2 * 0.5 - 1
  write(136);  // face-api's landmark net has the same trunk and a 136-wide fc
  CHECK(error_of([&] { import_checkpoint(manifest, ""); }).find("fc.weight (136, 256) (expected (7, 256))") != std::string::npos);
  const auto bytes = read_file_bytes(manifest);
  CHECK(error_of([&] { read_source_bytes(bytes.data(), bytes.size(), "m-weights_manifest.json"); }).find("shard files") !=
        std::string::npos);
  fs::remove(dir / "m.bin");
  CHECK(error_of([&] { read_source(manifest); }).find("m.bin' is not a file") != std::string::npos);
  fs::remove_all(dir);
}
