// A tiny EmotiW dataset root for the loader tests: JPEGs written with gler's encoder, face cache
// entries written with gler_faces' writer, and name lists as text or (by /usr/bin/python3) pickles.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "io/image.h"
#include "models/faces/face_layout.h"
#include "models/faces/face_outputs.h"
#include "tests/support/python_modules.h"
#include "train/data/emotiw_dataset.h"

namespace gler::test {

// A smooth pattern with detail, different for every `seed`, so crops and resizes differ visibly.
inline io::Image pattern_image(int width, int height, int channels, int seed) {
  io::Image image(width, height, channels);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < channels; ++c)
        image.row(y)[x * channels + c] =
            static_cast<std::uint8_t>((x * (3 + c) + y * (5 + seed % 7) + ((x / 4 + y / 3 + seed) % 5) * 23 + seed * 31 + c * 60) % 256);
  return image;
}

inline void write_image(const std::filesystem::path& path, const io::Image& image) {
  std::filesystem::create_directories(path.parent_path());
  io::write_jpeg(image, path.string(), 90);
}

// emotiw/<split>/<label>/<file>, a JPEG of the pattern `seed`.
inline std::filesystem::path add_image(const std::filesystem::path& root, const std::string& split, const std::string& label,
                                       const std::string& file, int seed, int width = 64, int height = 48, int channels = 3) {
  const std::filesystem::path path = root / "emotiw" / split / label / file;
  write_image(path, pattern_image(width, height, channels, seed));
  return path;
}

// The cache entry of emotiw/<split>/<label>/<file> with `faces` faces: feature row i is
// 1000·seed + 256·i + k, crop i a crop_width x crop_height pattern, written by write_face_outputs.
inline void add_cache_entry(const std::filesystem::path& root, const std::string& split, const std::string& label,
                            const std::string& file, int faces, int seed, int crop_width = 112, int crop_height = 96) {
  models::faces::FaceRecord record;
  record.image = (root / "emotiw" / split / label / file).string();
  record.width = 64;
  record.height = 48;
  record.mode = "RGB";
  for (int i = 0; i < faces; ++i) {
    models::faces::DetectedFace f;
    f.box = {1.0 + i, 2.0, 20.0 + i, 25.0};
    f.score = 0.99;
    for (int k = 0; k < 5; ++k) f.landmarks[static_cast<std::size_t>(k)] = {5.0f + static_cast<float>(k), 7.0f};
    for (int k = 0; k < 256; ++k) f.feature.push_back(static_cast<float>(1000 * seed + 256 * i + k));
    record.faces.push_back(f);
    record.crops.push_back(pattern_image(crop_width, crop_height, 3, 100 * seed + i));
  }
  const auto paths = models::faces::emotiw_face_outputs(root, std::filesystem::path(split) / label / file);
  models::faces::write_face_outputs(record, *paths, models::faces::FaceOutputSettings{});
}

inline void write_text_list(const std::filesystem::path& file, const std::vector<std::string>& names) {
  std::ofstream out(file);
  for (const std::string& n : names) out << n << "\n";
}

// ROOT/<file> = pickle.dumps(names, protocol) by /usr/bin/python3; false when it cannot run.
inline bool write_pickled_list(const std::filesystem::path& file, const std::vector<std::string>& names, int protocol) {
  std::string list = "[";
  for (const std::string& n : names) list += "'" + n + "',";
  list += "]";
  const std::string cmd = std::string(GLER_PYTHON) + " -c \"import pickle; open('" + file.string() + "', 'wb').write(pickle.dumps(" +
                          list + ", protocol=" + std::to_string(protocol) + "))\" >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

}  // namespace gler::test
