#include "train/data/face_cache.h"

#include <algorithm>
#include <condition_variable>
#include <set>
#include <string>
#include <system_error>

#include "core/error.h"
#include "models/faces/face_extraction.h"
#include "models/faces/face_layout.h"

namespace fs = std::filesystem;

namespace gler::train {
namespace {

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

bool entry_present(const models::faces::FaceOutputPaths& paths) { return is_file(paths.features) && is_file(paths.json); }

// The entries being written, process-wide, so that two loaders over one root (or one image listed
// twice) never write one entry at once.
class EntryWriters {
 public:
  void acquire(const std::string& entry) {
    std::unique_lock lock(mutex_);
    released_.wait(lock, [&] { return !busy_.contains(entry); });
    busy_.insert(entry);
  }
  void release(const std::string& entry) {
    {
      const std::lock_guard lock(mutex_);
      busy_.erase(entry);
    }
    released_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable released_;
  std::set<std::string> busy_;
};

EntryWriters& entry_writers() {
  static EntryWriters writers;
  return writers;
}

class EntryWriteGuard {
 public:
  explicit EntryWriteGuard(std::string entry) : entry_(std::move(entry)) { entry_writers().acquire(entry_); }
  ~EntryWriteGuard() { entry_writers().release(entry_); }
  EntryWriteGuard(const EntryWriteGuard&) = delete;
  EntryWriteGuard& operator=(const EntryWriteGuard&) = delete;

 private:
  std::string entry_;
};

}  // namespace

FaceCache::FaceCache(const DatasetOptions& options)
    : root_(options.root),
      model_(options.model),
      weights_(options.mtcnn_weights.empty() ? fs::path(models::faces::bundled_mtcnn_weights()) : options.mtcnn_weights),
      settings_(options.face_settings) {}

FaceCache::~FaceCache() = default;

models::faces::FaceOutputPaths FaceCache::paths(const Example& example) const {
  const fs::path rel = fs::path(example.split_dir) / example.label_dir / fs::path(example.image).filename();
  const auto paths = models::faces::emotiw_face_outputs(root_, rel);
  GLER_CHECK(paths.has_value(), example.image << ": not in an EmotiW split folder (train/<Label>/ or val/<Label>/)");
  return *paths;
}

const models::faces::MtcnnDetector& FaceCache::detector() {
  const std::lock_guard lock(detector_mutex_);
  if (!detector_)
    detector_ = std::make_unique<models::faces::MtcnnDetector>(weights_.string(), Device::CPU, settings_.detector);
  return *detector_;
}

void FaceCache::ensure(const Example& example, const io::Image& decoded) {
  const models::faces::FaceOutputPaths out = paths(example);
  if (entry_present(out)) return;
  const EntryWriteGuard guard(fs::absolute(out.json).lexically_normal().string());
  if (entry_present(out)) return;  // made while this caller waited
  const models::faces::FaceRecord record =
      models::faces::extract_faces(decoded, example.image, detector(), settings_.extraction);
  models::faces::write_face_outputs(record, out, settings_);
}

void FaceCache::read(const Example& example, models::pipeline::GroupSample& sample) const {
  const models::faces::FaceOutputPaths out = paths(example);
  const std::vector<std::vector<float>> features = models::pipeline::read_face_features(out.features, example.image);
  sample.faces_found = static_cast<int>(features.size());
  if (model_.uses_face_features()) {
    models::pipeline::add_face_features(sample, features, model_);
    return;
  }
  std::vector<io::Image> crops;
  const std::size_t wanted = std::min(features.size(), static_cast<std::size_t>(model_.max_faces));
  for (std::size_t i = 0; i < wanted; ++i) {
    const fs::path crop = models::faces::crop_path(out, settings_.crop_format, i);
    if (!is_file(crop)) break;
    crops.push_back(io::read_image(crop.string()));
  }
  models::pipeline::add_face_crops(sample, crops, model_);
}

}  // namespace gler::train
