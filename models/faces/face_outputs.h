// Writing one image's face outputs (gler_faces): the per-image JSON, the aligned crops, the seed's
// FaceFeatures npz and, in the EmotiW layout, its FaceCoordinates npz; and telling, for --resume,
// whether a previous run left them complete.
//
// Every file is written atomically and the JSON last, after the old JSON was removed, so "the JSON
// exists, parses, has no error, was written with the same settings, and the files it implies
// exist" means complete, even after a crash in the middle of an image.
#pragma once
#include <filesystem>
#include <string>

#include "io/json.h"
#include "models/faces/face_extraction.h"
#include "models/faces/mtcnn_detector.h"

namespace gler::models::faces {

enum class CropFormat { jpg, png };
CropFormat parse_crop_format(const std::string& name);  // "jpg" | "png"; throws otherwise
const char* crop_format_name(CropFormat format);

// Where one image's outputs go.
struct FaceOutputPaths {
  std::filesystem::path json;
  std::filesystem::path features;     // a = (n,256) float32 O-Net features
  std::filesystem::path coordinates;  // empty: not written; else a = (n,5) float64 boxes+score, b = (n,10) float32 landmarks
  std::filesystem::path crop_prefix;  // crop i is crop_prefix + "_<i>" + crop extension
};

// Everything that decides the contents of the outputs. Recorded in each JSON as "settings"; --resume
// redoes an image whose JSON was written with other settings.
struct FaceOutputSettings {
  ExtractionOptions extraction;
  CropFormat crop_format = CropFormat::jpg;
  MtcnnOptions detector;
};
json::Value settings_json(const FaceOutputSettings& settings);

std::filesystem::path crop_path(const FaceOutputPaths& paths, CropFormat format, std::size_t index);

// Writes the crops (JPEG quality 75 as the seed's PIL save, or PNG), the npz files and the JSON,
// creating the folders; removes crops of a previous run beyond the new face count.
void write_face_outputs(const FaceRecord& record, const FaceOutputPaths& paths, const FaceOutputSettings& settings);
// A failed image: only the JSON, with "error": message and no faces; earlier outputs are removed so
// that no reader mistakes them for this run's.
void write_face_error(const std::string& image, const std::string& message, const FaceOutputPaths& paths,
                      const FaceOutputSettings& settings);

bool face_outputs_complete(const FaceOutputPaths& paths, const FaceOutputSettings& settings);

}  // namespace gler::models::faces
