#include "models/faces/face_layout.h"

#include <map>
#include <system_error>

#include "core/error.h"
#include "io/files.h"

namespace fs = std::filesystem;

namespace gler::models::faces {

namespace {

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

fs::path resolved(const fs::path& p) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(p, ec);
  if (ec) c = fs::absolute(p).lexically_normal();
  return c.has_filename() ? c : c.parent_path();  // "dir/" -> "dir"
}

// Whether `p` is `dir` or lies inside it (both canonical).
bool is_inside(const fs::path& p, const fs::path& dir) {
  const fs::path rel = p.lexically_relative(dir);
  return !rel.empty() && *rel.begin() != "..";
}

FaceOutputPaths plain_outputs(const fs::path& out_dir, const fs::path& relative_image) {
  const fs::path base = out_dir / relative_image.parent_path() / relative_image.stem();
  FaceOutputPaths paths;
  paths.json = fs::path(base).concat(".json");
  paths.features = fs::path(base).concat(".npz");
  paths.crop_prefix = base;
  return paths;
}

}  // namespace

std::optional<FaceOutputPaths> emotiw_face_outputs(const fs::path& out_dir, const fs::path& rel) {
  std::vector<std::string> parts;
  for (const fs::path& part : rel) parts.push_back(part.string());
  fs::path split;  // e.g. train/Positive or test
  if (parts.size() == 3 && (parts[0] == "train" || parts[0] == "val"))
    split = fs::path(parts[0]) / parts[1];
  else if (parts.size() == 3 && parts[0] == "test_shared" && parts[1] == "test")
    split = "test";
  else
    return std::nullopt;
  const std::string stem = seed_stem(rel.filename());
  FaceOutputPaths paths;
  paths.json = out_dir / "FaceJson" / split / (stem + ".json");
  paths.features = out_dir / "FaceFeatures" / split / (stem + ".npz");
  paths.coordinates = out_dir / "FaceCoordinates" / split / (stem + ".npz");
  paths.crop_prefix = out_dir / "AlignedCroppedImages" / split / stem;
  return paths;
}

std::optional<fs::path> emotiw_folder(const fs::path& input) {
  auto holds_splits = [](const fs::path& d) { return is_dir(d / "train") || is_dir(d / "val") || is_dir(d / "test_shared" / "test"); };
  if (is_dir(input / "emotiw") && holds_splits(input / "emotiw")) return input / "emotiw";
  // A trailing '/' leaves an empty file name; the folder's own name is then the one before it.
  const fs::path name = input.has_filename() ? input.filename() : input.parent_path().filename();
  if (name == "emotiw" && holds_splits(input)) return input;
  return std::nullopt;
}

std::string seed_stem(const fs::path& file) {
  const std::string name = file.filename().string();
  return name.substr(0, name.find('.'));
}

FacePlan plan_face_jobs(const std::vector<std::string>& inputs, const fs::path& out_dir) {
  GLER_CHECK(!inputs.empty(), "no INPUT given: expected image files or folders (see --help)");
  FacePlan plan;
  std::map<fs::path, std::string> writer_of;  // output JSON -> the image that writes it
  auto add = [&](const std::string& image, const FaceOutputPaths& outputs) {
    FaceJob job{image, outputs, {}};
    // Crops and npz share the JSON's stem, so the JSON alone decides collisions.
    const fs::path key = outputs.json.lexically_normal();
    if (auto [it, inserted] = writer_of.emplace(key, image); !inserted)
      job.conflict = "its outputs (" + key.string() + ") are already written for " + it->second;
    plan.jobs.push_back(std::move(job));
  };

  for (const std::string& input : inputs) {
    std::error_code ec;
    const fs::path in(input);
    GLER_CHECK(fs::exists(in, ec), input << ": no such file or folder");
    if (!is_dir(in)) {
      add(input, plain_outputs(out_dir, in.filename()));
      continue;
    }
    const std::optional<fs::path> emotiw = emotiw_folder(in);
    const fs::path root = emotiw ? *emotiw : in;
    // The images this run writes must not become its inputs (nor the next run's): the crops are
    // written to `written`; those found there are skipped.
    const fs::path canonical_root = resolved(root), written = resolved(emotiw ? out_dir / "AlignedCroppedImages" : out_dir);
    GLER_CHECK(emotiw || canonical_root != written,
               "--out " << out_dir.string() << " is the INPUT folder itself: its crops would be read as images next time; "
                        << "choose another folder");
    const bool may_hold_outputs = is_inside(written, canonical_root);
    std::size_t found = 0, outside = 0;
    for (const fs::path& rel : io::list_images(root)) {
      const fs::path image = root / rel;
      if (may_hold_outputs && is_inside(canonical_root / rel, written)) continue;
      ++found;
      if (!emotiw) {
        add(image.string(), plain_outputs(out_dir, rel));
      } else if (const std::optional<FaceOutputPaths> outputs = emotiw_face_outputs(out_dir, rel)) {
        add(image.string(), *outputs);
      } else {
        ++outside;
      }
    }
    GLER_CHECK(found > outside, "no images found under " << input << " (looked for .jpg .jpeg .png .bmp .gif .tga"
                                    << (emotiw ? " in train/<Label>/, val/<Label>/ and test_shared/test/" : "") << ")");
    if (outside > 0)
      plan.notes.push_back(std::to_string(outside) + " image(s) under " + root.string() +
                           " are in none of train/<Label>/, val/<Label>/, test_shared/test/ and were left out");
  }
  return plan;
}

}  // namespace gler::models::faces
