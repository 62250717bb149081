#include "train/ensemble/model_outputs.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/error.h"
#include "io/json.h"
#include "weights_import/npy.h"

namespace gler::ensemble {

int parse_class(const std::string& s) {
  for (int c = 0; c < kNumClasses; ++c)
    if (s == kClassNames[c] || s == std::to_string(c)) return c;
  GLER_FAIL("unknown class '" << s << "' (expected 0, 1, 2, Negative, Neutral or Positive)");
}

namespace {

// The values of a little-endian float or integer array, converted to T (the files come from
// numpy on x86; the data is not aligned inside the archive, hence memcpy).
template <typename T>
std::vector<T> values_as(const wi::NdArray& a, const std::string& name) {
  std::vector<T> out(static_cast<std::size_t>(a.numel()));
  auto convert = [&]<typename S>(S) {
    GLER_CHECK(a.data.size() == out.size() * sizeof(S), name << ": truncated data");
    for (std::size_t i = 0; i < out.size(); ++i) {
      S s;
      std::memcpy(&s, a.data.data() + i * sizeof(S), sizeof(S));
      out[i] = static_cast<T>(s);
    }
  };
  if (a.descr == "<f4") convert(float{});
  else if (a.descr == "<f8") convert(double{});
  else if (a.descr == "<i8") convert(std::int64_t{});
  else if (a.descr == "<i4") convert(std::int32_t{});
  else GLER_FAIL(name << ": unsupported dtype " << a.descr << " (expected <f4, <f8, <i8 or <i4)");
  return out;
}

std::string shape_str(const std::vector<std::int64_t>& shape) {
  std::ostringstream os;
  os << "(";
  for (std::size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << (shape.size() == 1 ? ",)" : ")");
  return os.str();
}

std::vector<int> checked_labels(const std::vector<long long>& raw, const std::string& name) {
  std::vector<int> labels(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    GLER_CHECK(raw[i] >= 0 && raw[i] < kNumClasses, name << "[" << i << "] = " << raw[i] << " is not a class in 0..2");
    labels[i] = static_cast<int>(raw[i]);
  }
  return labels;
}

std::string file_stem(const std::string& path) { return std::filesystem::path(path).stem().string(); }

}  // namespace

SplitOutputs load_npz_split(const std::string& path, const std::string& split) {
  const auto arrays = wi::read_npz(path);
  SplitOutputs out;
  out.source = path + " (" + split + ")";

  // output_<split>_model<k>; the map is sorted by name, so collect ids and sort numerically.
  const std::string prefix = "output_" + split + "_model";
  std::map<int, const wi::NdArray*> models;
  for (const auto& [name, array] : arrays) {
    if (name.rfind(prefix, 0) != 0 || name.size() == prefix.size()) continue;
    std::string digits = name.substr(prefix.size());
    if (digits.size() > 6 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    models[std::stoi(digits)] = &array;
  }
  if (models.empty()) {  // name the splits the file does have
    std::set<std::string> splits;
    for (const auto& [name, array] : arrays)
      if (auto m = name.rfind("_model"); name.rfind("output_", 0) == 0 && m != std::string::npos && m > 7) splits.insert(name.substr(7, m - 7));
    std::ostringstream have;
    for (const auto& s : splits) have << (have.tellp() ? ", " : "") << s;
    GLER_FAIL(path << ": no arrays " << prefix << "<k> (split '" << split << "'); the file has "
                   << (splits.empty() ? "no output_<split>_model<k> arrays" : "splits " + have.str()));
  }

  std::int64_t n = -1;
  for (const auto& [id, array] : models) {
    const std::string name = prefix + std::to_string(id);
    GLER_CHECK(array->shape.size() == 2 && array->shape[1] == kNumClasses,
               path << ": " << name << " has shape " << shape_str(array->shape) << ", expected (N, 3)");
    if (n < 0) n = array->shape[0];
    GLER_CHECK(array->shape[0] == n, path << ": mismatched lengths: " << name << " has " << array->shape[0]
                                          << " rows, " << prefix << models.begin()->first << " has " << n);
    out.model_ids.push_back(id);
    out.logits.push_back(values_as<float>(*array, name));
  }

  if (auto it = arrays.find("label_" + split); it != arrays.end()) {
    const std::string name = it->first;
    GLER_CHECK(it->second.descr == "<i8" || it->second.descr == "<i4",
               path << ": " << name << " has dtype " << it->second.descr << ", expected integers (<i8)");
    GLER_CHECK(it->second.shape.size() == 1 && it->second.shape[0] == n,
               path << ": mismatched lengths: " << name << " has shape " << shape_str(it->second.shape) << ", the scores have "
                    << n << " rows");
    out.labels = checked_labels(values_as<long long>(it->second, name), name);
  }
  if (auto it = arrays.find("filename_" + split); it != arrays.end()) {
    GLER_CHECK(it->second.shape.size() == 1 && it->second.shape[0] == n && it->second.strings.size() == static_cast<std::size_t>(n),
               path << ": mismatched lengths: " << it->first << " has shape " << shape_str(it->second.shape)
                    << ", the scores have " << n << " rows");
    out.images = it->second.strings;
  }
  return out;
}

namespace {

// Finds each name's row in `images`: by the exact path, else by the file stem when exactly one
// image has it (labels CSVs and gler_infer outputs often name files relative to different roots).
class ImageIndex {
 public:
  explicit ImageIndex(const std::vector<std::string>& images) {
    for (std::size_t i = 0; i < images.size(); ++i) {
      GLER_CHECK(by_path_.emplace(images[i], i).second, "image " << images[i] << " appears twice");
      auto [it, fresh] = by_stem_.emplace(file_stem(images[i]), i);
      if (!fresh) it->second = kAmbiguous;
    }
  }

  // The row of `name`, or npos when absent.
  std::size_t find(const std::string& name, const std::string& where) const {
    if (auto it = by_path_.find(name); it != by_path_.end()) return it->second;
    auto it = by_stem_.find(file_stem(name));
    if (it == by_stem_.end()) return npos;
    GLER_CHECK(it->second != kAmbiguous, where << ": image " << name << " matches several images by file stem");
    return it->second;
  }

  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

 private:
  static constexpr std::size_t kAmbiguous = static_cast<std::size_t>(-2);
  std::map<std::string, std::size_t> by_path_, by_stem_;
};

struct InferRows {
  std::vector<std::string> images;
  std::vector<float> logits;
};

InferRows read_infer_json(const std::string& path) {
  const json::Value doc = json::parse_file(path);
  InferRows rows;
  try {
    GLER_CHECK(doc.is_array(), "expected a list of per-image objects (gler_infer --format json), got " << doc.type_name());
    for (std::size_t i = 0; i < doc.as_array().size(); ++i) {
      const json::Value& item = doc.as_array()[i];
      try {
        rows.images.push_back(item.at("image").as_string());
        const json::Array& l = item.at("logits").as_array();
        GLER_CHECK(l.size() == kNumClasses, "\"logits\" has " << l.size() << " values, expected 3");
        for (const auto& v : l) rows.logits.push_back(static_cast<float>(v.as_number()));
      } catch (const Error& e) {
        throw Error("entry " + std::to_string(i) + ": " + e.what());
      }
    }
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  GLER_CHECK(!rows.images.empty(), path << ": no images");
  return rows;
}

std::vector<std::pair<std::string, std::string>> read_labels_csv(const std::string& path) {
  std::ifstream in(path);
  GLER_CHECK(in, "cannot open " << path);
  std::vector<std::pair<std::string, std::string>> rows;
  std::string line;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    auto comma = line.find(',');
    GLER_CHECK(comma != std::string::npos && line.find(',', comma + 1) == std::string::npos,
               path << ":" << line_no << ": expected two fields image,label");
    std::string image = line.substr(0, comma), label = line.substr(comma + 1);
    if (line_no == 1 && image == "image" && label == "label") continue;  // the header
    rows.emplace_back(image, label);
  }
  GLER_CHECK(!rows.empty(), path << ": no rows");
  return rows;
}

}  // namespace

SplitOutputs load_json_set(const std::vector<std::string>& json_paths, const std::string& labels_csv) {
  GLER_CHECK(!json_paths.empty(), "no JSON inputs");
  SplitOutputs out;
  out.source = json_paths.size() == 1 ? json_paths[0] : json_paths[0] + " ... (" + std::to_string(json_paths.size()) + " files)";

  InferRows first = read_infer_json(json_paths[0]);
  const ImageIndex index(first.images);
  out.images = first.images;
  const std::size_t n = first.images.size();
  out.model_ids.push_back(1);
  out.logits.push_back(std::move(first.logits));

  for (std::size_t m = 1; m < json_paths.size(); ++m) {
    InferRows rows = read_infer_json(json_paths[m]);
    GLER_CHECK(rows.images.size() == n, "mismatched lengths: " << json_paths[m] << " has " << rows.images.size()
                                                               << " images, " << json_paths[0] << " has " << n);
    std::vector<float> logits(n * kNumClasses);
    std::vector<bool> seen(n, false);
    for (std::size_t i = 0; i < n; ++i) {
      std::size_t row = index.find(rows.images[i], json_paths[m]);
      GLER_CHECK(row != ImageIndex::npos, json_paths[m] << ": image " << rows.images[i] << " is not in " << json_paths[0]);
      GLER_CHECK(!seen[row], json_paths[m] << ": image " << rows.images[i] << " appears twice");
      seen[row] = true;
      std::copy_n(rows.logits.begin() + static_cast<std::ptrdiff_t>(i * kNumClasses), kNumClasses,
                  logits.begin() + static_cast<std::ptrdiff_t>(row * kNumClasses));
    }
    out.model_ids.push_back(static_cast<int>(m + 1));
    out.logits.push_back(std::move(logits));
  }

  if (!labels_csv.empty()) {
    std::vector<int> labels(n, -1);
    for (const auto& [image, label] : read_labels_csv(labels_csv)) {
      std::size_t row = index.find(image, labels_csv);
      if (row == ImageIndex::npos) continue;  // a labels file may cover more images than were scored
      GLER_CHECK(labels[row] < 0, labels_csv << ": image " << image << " is labelled twice");
      try {
        labels[row] = parse_class(label);
      } catch (const Error& e) {
        throw Error(labels_csv + ": image " + image + ": " + e.what());
      }
    }
    for (std::size_t i = 0; i < n; ++i)
      GLER_CHECK(labels[i] >= 0, labels_csv << " has no label for " << out.images[i]);
    out.labels = std::move(labels);
  }
  return out;
}

SplitOutputs select_models(const SplitOutputs& outputs, const std::vector<int>& model_ids) {
  GLER_CHECK(!model_ids.empty(), "no models selected");
  SplitOutputs out;
  out.source = outputs.source;
  out.labels = outputs.labels;
  out.images = outputs.images;
  for (int id : model_ids) {
    auto it = std::find(outputs.model_ids.begin(), outputs.model_ids.end(), id);
    GLER_CHECK(it != outputs.model_ids.end(), outputs.source << " has no model " << id << " (it has models "
                                                            << outputs.model_ids.front() << ".." << outputs.model_ids.back() << ")");
    out.model_ids.push_back(id);
    out.logits.push_back(outputs.logits[static_cast<std::size_t>(it - outputs.model_ids.begin())]);
  }
  return out;
}

}  // namespace gler::ensemble
