// Which images gler_faces processes and where each one's outputs go (docs/CLI.md, gler_faces).
//
// Plain layout: an image found under an INPUT folder at REL/NAME.ext writes OUT/REL/NAME.json,
// OUT/REL/NAME.npz and OUT/REL/NAME_<i>.jpg; a file INPUT writes straight into OUT.
// EmotiW layout (SEED_SPEC §1.1, §3.5-3.8): an INPUT that is a dataset root holding emotiw/, or
// that emotiw/ folder itself, writes the seed's trees under OUT:
//   emotiw/{train,val}/<Label>/<stem>.* -> FaceCoordinates/{train,val}/<Label>/<stem>.npz,
//     FaceFeatures/.../<stem>.npz, AlignedCroppedImages/.../<stem>_<i>.jpg, FaceJson/.../<stem>.json
//   emotiw/test_shared/test/<stem>.*   -> the same under .../test/
// with <stem> the name up to its first '.', as the seed splits it.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "models/faces/face_outputs.h"

namespace gler::models::faces {

struct FaceJob {
  std::string image;  // the path to read, as found (INPUT joined with the path below it)
  FaceOutputPaths outputs;
  // Non-empty when an earlier job already writes these outputs (e.g. a.jpg and a.png in one
  // folder): this image is reported as failed and nothing of it is written.
  std::string conflict;
};

struct FacePlan {
  std::vector<FaceJob> jobs;  // INPUTs in the order given, each one's images sorted (io::list_images)
  std::vector<std::string> notes;  // e.g. images under an EmotiW root that fit none of its splits
};

// The emotiw/ folder when `input` is an EmotiW dataset root or that folder itself: it must hold
// train/, val/ or test_shared/test/.
std::optional<std::filesystem::path> emotiw_folder(const std::filesystem::path& input);

// The seed's stem: the file name up to its first '.'.
std::string seed_stem(const std::filesystem::path& file);

// The EmotiW-layout outputs under `out_dir` of the image at `rel` below the emotiw/ folder (e.g.
// train/Negative/neg_1.jpg); nullopt when `rel` is in none of the seed's split folders.
std::optional<FaceOutputPaths> emotiw_face_outputs(const std::filesystem::path& out_dir, const std::filesystem::path& rel);

// Throws gler::Error (a bad argument) for an INPUT that does not exist and for a folder without
// images ("no images found under ..."), and for `out_dir` equal to an INPUT folder (plain layout).
// Images where this run writes its crops (under `out_dir`) are never inputs.
FacePlan plan_face_jobs(const std::vector<std::string>& inputs, const std::filesystem::path& out_dir);

}  // namespace gler::models::faces
