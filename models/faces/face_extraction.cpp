#include "models/faces/face_extraction.h"

#include "core/error.h"

namespace gler::models::faces {

namespace {
const char* pillow_mode(int channels) {
  switch (channels) {
    case 1: return "L";
    case 3: return "RGB";
    case 4: return "RGBA";
    default: return "?";
  }
}
}  // namespace

FaceRecord extract_faces(const io::Image& decoded, const std::string& image, const MtcnnDetector& detector,
                         const ExtractionOptions& options) {
  FaceRecord record;
  record.image = image;
  record.width = decoded.width;
  record.height = decoded.height;
  record.mode = pillow_mode(decoded.channels);
  const io::Image converted = decoded.channels == 3 ? io::Image() : io::to_rgb(decoded);
  const io::Image& rgb = decoded.channels == 3 ? decoded : converted;
  record.faces = detector.detect(rgb).faces;
  if (options.crops) {
    std::vector<AlignedFace> aligned = align_faces(rgb, record.faces, options.align);
    // Seed alignment skips a whole image when any landmark coordinate is exactly 0 (align.h).
    GLER_CHECK(aligned.size() == record.faces.size() || (aligned.empty() && options.align == AlignMode::seed),
               image << ": alignment gave " << aligned.size() << " crops for " << record.faces.size() << " faces");
    for (AlignedFace& a : aligned) record.crops.push_back(std::move(a.image));
  }
  return record;
}

FaceRecord extract_faces(const std::string& path, const MtcnnDetector& detector, const ExtractionOptions& options) {
  return extract_faces(io::read_image(path, options.decode), path, detector, options);
}

}  // namespace gler::models::faces
