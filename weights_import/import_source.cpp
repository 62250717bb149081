#include "weights_import/import_source.h"

#include <filesystem>

#include "core/error.h"
#include "weights_import/arch_specs.h"
#include "weights_import/byte_reader.h"
#include "weights_import/npy.h"
#include "weights_import/safetensors.h"
#include "weights_import/tfjs_manifest.h"
#include "weights_import/torch_checkpoint.h"
#include "weights_import/zip_reader.h"

namespace gler::wi {
namespace fs = std::filesystem;
using Kind = Value::Kind;

namespace {

// A .npy file: a numeric array becomes one tensor named `stem`; a pickled object array holding
// a dict (the MTCNN weights) becomes its arrays, named `prefix` + key.
void add_npy(StateDict& sd, const std::uint8_t* data, std::size_t size, const std::string& stem, const std::string& prefix) {
  std::vector<std::uint8_t> pickle;
  NdArray a = parse_npy(data, size, &pickle);
  if (a.descr != "|O") {
    sd.add(stem, from_ndarray(a));
    return;
  }
  Pickle p = unpickle(pickle.data(), pickle.size());
  const Value* root = p.root;
  if (root->kind == Kind::List && root->items.size() == 1) root = root->items[0];  // 0-d object array
  GLER_CHECK(root->kind == Kind::Dict, "object array holds a " << kind_name(root->kind) << ", expected a dict of arrays");
  for (const auto& [name, v] : collect_tensors(*root)) {
    GLER_CHECK(v->kind == Kind::Array, name << " is not a NumPy array");
    sd.add(prefix + name, from_ndarray(*v->array));
  }
}

bool is_group_emotion_arch(const std::string& arch) {
  return arch == "global" || arch == "local" || arch == "average" || arch.rfind("attention_", 0) == 0;
}

StateDict read_mtcnn_dir(const fs::path& dir) {
  StateDict sd;
  sd.format = SourceFormat::mtcnn_dir;
  for (const char* net : {"pnet", "rnet", "onet"}) {
    fs::path file = dir / (std::string(net) + ".npy");
    GLER_CHECK(fs::is_regular_file(file), "directory " << dir.string() << " lacks " << net << ".npy (expected the MTCNN "
                                                       << "pnet/rnet/onet.npy weights)");
    auto bytes = read_file_bytes(file.string());
    try {
      add_npy(sd, bytes.data(), bytes.size(), net, std::string(net) + ".");
    } catch (const Error& e) {
      throw Error(file.string() + ": " + e.what());
    }
  }
  return sd;
}

}  // namespace

StateDict read_source_bytes(const std::uint8_t* d, std::size_t n, const std::string& name) {
  fs::path path(name);
  std::string stem = path.stem().string();
  if (n >= 6 && std::string_view(reinterpret_cast<const char*>(d), 6) == "\x93NUMPY") {
    StateDict sd;
    sd.format = SourceFormat::numpy;
    bool mtcnn = stem == "pnet" || stem == "rnet" || stem == "onet";
    add_npy(sd, d, n, stem, mtcnn ? stem + "." : "");
    return sd;
  }
  if (ZipReader::looks_like_zip(d, n)) {
    ZipReader zip(d, n);
    for (const auto& e : zip.entries())
      if (e.name == "data.pkl" || e.name.ends_with("/data.pkl")) return read_torch_checkpoint(d, n);
    StateDict sd;  // an .npz
    sd.format = SourceFormat::numpy;
    for (const auto& e : zip.entries()) {
      GLER_CHECK(e.name.ends_with(".npy"), "zip archive is neither a PyTorch checkpoint nor an .npz (member '" << e.name << "')");
      auto member = zip.read(e);
      std::string key = e.name.substr(0, e.name.size() - 4);
      try {
        NdArray a = parse_npy(member.data(), member.size());
        if (!a.strings.empty() || a.descr[1] == 'U') continue;  // string arrays are not tensors
        add_npy(sd, member.data(), member.size(), key, key + ".");
      } catch (const Error& err) {
        throw Error("member '" + e.name + "': " + err.what());
      }
    }
    return sd;
  }
  if (is_legacy_torch_checkpoint(d, n)) return read_torch_checkpoint(d, n);
  if (is_safetensors(d, n)) return parse_safetensors(d, n);
  GLER_CHECK(!looks_like_tfjs_manifest(d, n), "a TF.js weights manifest names its shard files, so it is read from "
                                              "its file, beside them");
  throw Error("unrecognised file format (expected a PyTorch checkpoint, .npy, .npz, safetensors file or TF.js "
              "weights manifest)");
}

StateDict read_source(const std::string& path) {
  fs::path p(path);
  std::error_code ec;
  GLER_CHECK(fs::exists(p, ec), "'" << path << "' does not exist");
  if (fs::is_directory(p, ec)) return read_mtcnn_dir(p);
  auto bytes = read_file_bytes(path);
  try {
    if (looks_like_tfjs_manifest(bytes.data(), bytes.size())) return read_tfjs_manifest(path);
    return read_source_bytes(bytes.data(), bytes.size(), p.filename().string());
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

StateDict import_checkpoint(const std::string& path, const std::string& arch) {
  StateDict raw = read_source(path);
  if (raw.format == SourceFormat::tfjs) {
    try {
      raw = tfjs_to_torch(std::move(raw));
    } catch (const Error& e) {
      throw Error(path + ": " + e.what());
    }
  }
  StateDict sd;
  sd.metadata = raw.metadata;
  sd.format = raw.format;
  for (auto& [name, t] : raw.entries) sd.add(normalize_name(name), std::move(t));
  // A safetensors file converted earlier already says what it is.
  auto recorded = raw.metadata.find("arch");
  std::string a = !arch.empty() ? arch : recorded != raw.metadata.end() ? recorded->second : infer_arch(sd);
  try {
    conform_to_arch(sd, a);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  // The seed's checkpoints are PyTorch pickles: a group-emotion model read from one is the seed's
  // and runs with its quirks (gler_infer reads seed_compat). Such a file brings no metadata of its
  // own; other sources say for themselves.
  if (raw.format == SourceFormat::pytorch && is_group_emotion_arch(a)) sd.metadata.emplace("seed_compat", "1");
  return sd;
}

}  // namespace gler::wi
