// gler_faces: MTCNN detection and face alignment over image files and folders, the dataset
// preprocessing step (models/faces/face_layout.h, face_batch.h). Contract: docs/CLI.md.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>

#include "apps/cli/cli.h"
#include "apps/cli/progress.h"
#include "core/error.h"
#include "models/faces/face_batch.h"
#include "models/faces/face_layout.h"

namespace {

const char* kUsage = R"(gler_faces INPUT... --out DIR [--min-face 20] [--align seed|sphereface] [--resume]
           [--device cpu|cuda[:N]] [--workers N] [--weights FILE] [--exif-rotate] [--no-crops]
           [--crop-format jpg|png] [--seed-feature-indexing] [--progress | --no-progress]

Detects faces with the seed's MTCNN and aligns them. INPUT: image files, or folders searched
recursively for .jpg .jpeg .png .bmp .gif .tga (any case). For each image, under DIR (mirroring its
path below the INPUT folder; a file INPUT goes straight into DIR):
  STEM.json    {"image", "width", "height", "mode", "faces": [{"box": [x1,y1,x2,y2], "score",
               "landmarks": [[x,y] x5], "crop"}], "features", "error": null, "settings"}
  STEM_<i>.jpg the aligned face i, in detector order (seed: 112 wide x 96 high)
  STEM.npz     a = (n,256) float32 O-Net features (the seed's FaceFeatures)
An INPUT holding emotiw/{train,val,test_shared/test} (or that emotiw folder) writes the seed's
FaceCoordinates/, FaceFeatures/, AlignedCroppedImages/ and FaceJson/ trees under DIR instead.

--out DIR              where the outputs go (created)
--min-face PX          smallest face to look for, in pixels (default 20, at least 12)
--align MODE           seed: the seed's eye-based 112x96 crops (default); sphereface: 96x112, 5 points
--crop-format FMT      jpg: JPEG quality 75 as the seed saved them (default); png: lossless
--no-crops             detect only: JSON and npz, no crops
--resume               skip images whose outputs a previous run completed with the same settings
--device DEV           cpu, cuda or cuda:N (default: cuda:0 when present, else cpu)
--workers N            images processed at once (default: min(hardware threads, 4)); with N > 1 each
                       uses one CPU thread
--weights FILE         MTCNN weights (default: the bundled data/mtcnn/mtcnn.safetensors)
--exif-rotate          apply the EXIF orientation (the seed and Pillow do not; off by default)
--seed-feature-indexing  give faces the seed's mis-indexed O-Net features (SEED_SPEC 3.6)
--progress, --no-progress  draw the progress bar or not (default: when stderr is a terminal)

A corrupt image is reported as `error: PATH: reason`, its JSON gets "error", and the rest go on.
Exit status: 0 all done, 1 some image failed, 2 bad arguments.
)";

int run(int argc, char** argv) {
  using namespace gler;
  using namespace gler::models::faces;
  const cli::Args args(argc, argv,
                       {"--out", "--min-face", "--align", "--device", "--workers", "--weights", "--crop-format"},
                       {"--resume", "--exif-rotate", "--no-crops", "--seed-feature-indexing", "--progress", "--no-progress"});
  GLER_CHECK(!args.positional().empty(), "no INPUT given: expected image files or folders (see --help)");
  const std::string out_dir = args.require("--out");
  const std::string align = args.get("--align", "seed"), crop_format = args.get("--crop-format", "jpg");
  GLER_CHECK(align == "seed" || align == "sphereface", "--align must be seed or sphereface, got '" << align << "'");
  GLER_CHECK(crop_format == "jpg" || crop_format == "png", "--crop-format must be jpg or png, got '" << crop_format << "'");
  GLER_CHECK(!(args.has("--progress") && args.has("--no-progress")), "--progress and --no-progress exclude each other");
  const long long workers = args.get_int("--workers", std::clamp<long long>(std::thread::hardware_concurrency(), 1, 4));
  GLER_CHECK(workers >= 1, "--workers must be at least 1, got " << workers);
  const Device device = cli::device_option(args);

  FaceOutputSettings settings;
  settings.extraction.align = parse_align_mode(align);
  settings.extraction.crops = !args.has("--no-crops");
  settings.extraction.decode.exif_rotate = args.has("--exif-rotate");
  settings.crop_format = parse_crop_format(crop_format);
  settings.detector.min_face_size = args.get_double("--min-face", 20);
  settings.detector.seed_feature_indexing = args.has("--seed-feature-indexing");

  const FacePlan plan = plan_face_jobs(args.positional(), out_dir);
  const MtcnnDetector detector(args.get("--weights", bundled_mtcnn_weights()), device, settings.detector);
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  GLER_CHECK(!ec, "--out " << out_dir << ": cannot create the folder (" << ec.message() << ")");

  std::vector<FaceJob> todo;
  for (const FaceJob& job : plan.jobs)
    if (!(args.has("--resume") && job.conflict.empty() && face_outputs_complete(job.outputs, settings))) todo.push_back(job);
  const std::size_t skipped = plan.jobs.size() - todo.size();

  cli::ProgressBar progress(todo.size(), "images", "img/s", {"faces", "errors"},
                            cli::progress_wanted(args.has("--progress"), args.has("--no-progress")), std::cerr);
  for (const std::string& note : plan.notes) progress.print_line("note: " + note);
  if (skipped > 0) progress.print_line("resume: " + std::to_string(skipped) + " image(s) already done, skipped");
  std::size_t failed = 0, faces = 0;
  run_face_jobs(todo, detector, settings, static_cast<int>(workers), [&](const FaceJobResult& r) {
    faces += r.faces;
    progress.advance({static_cast<long long>(r.faces), r.error.empty() ? 0 : 1});
    if (!r.error.empty()) {
      ++failed;
      const std::string& image = todo[r.index].image;
      // Decoder messages usually start with the file's name already.
      progress.print_line("error: " + (r.error.rfind(image, 0) == 0 ? r.error : image + ": " + r.error));
    }
  });
  const double seconds = progress.elapsed_s();
  progress.finish();

  char rate[64];
  std::snprintf(rate, sizeof rate, "%.1f s, %.1f img/s", seconds, seconds > 0 ? static_cast<double>(todo.size()) / seconds : 0.0);
  std::cerr << "gler_faces: " << plan.jobs.size() << " images: " << todo.size() - failed << " done, " << skipped
            << " skipped (resumed), " << failed << " failed; " << faces << " faces; " << rate << '\n';
  return failed > 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) { return gler::cli::run_main(argc, argv, kUsage, run); }
