// The per-image face job of gler_faces (and of gler_infer without --aligned-faces): decode, convert
// to RGB as the seed's ImageFolder loader does, detect with MTCNN, align every face.
#pragma once
#include <string>
#include <vector>

#include "io/image.h"
#include "models/faces/align.h"
#include "models/faces/face.h"
#include "models/faces/mtcnn_detector.h"

namespace gler::models::faces {

struct ExtractionOptions {
  AlignMode align = AlignMode::seed;
  bool crops = true;  // false: detect only, no aligned crops
  io::DecodeOptions decode;
};

// What one image gives.
struct FaceRecord {
  std::string image;  // the path it was read from
  int width = 0, height = 0;
  std::string mode;               // the decoded image's Pillow mode: "L", "RGB" or "RGBA"
  std::vector<DetectedFace> faces;  // detector order
  std::vector<io::Image> crops;     // aligned RGB crops, one per face (empty without options.crops)
};

// `decoded` may have 1, 3 or 4 channels. `image` is only recorded.
FaceRecord extract_faces(const io::Image& decoded, const std::string& image, const MtcnnDetector& detector,
                         const ExtractionOptions& options);
// Reads the file first; a corrupt or unreadable file throws gler::Error naming it.
FaceRecord extract_faces(const std::string& path, const MtcnnDetector& detector, const ExtractionOptions& options);

}  // namespace gler::models::faces
