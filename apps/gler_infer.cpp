// gler_infer: group-level emotion of photos (models/pipeline: decode -> MTCNN -> alignment ->
// tensors -> model -> label). Contract: docs/CLI.md.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "apps/cli/cli.h"
#include "apps/cli/progress.h"
#include "core/cpu/threads.h"
#include "core/error.h"
#include "io/files.h"
#include "models/faces/mtcnn_detector.h"
#include "models/gler/gler_model.h"
#include "models/pipeline/annotate.h"
#include "models/pipeline/infer_run.h"

namespace {

const char* kUsage = R"(gler_infer [--model M.safetensors] INPUT... [--aligned-faces DIR] [--face-features DIR]
           [--max-faces N] [--format json|csv] [--out FILE] [--annotate DIR] [--batch N]
           [--device cpu|cuda[:N]] [--threads N] [--workers N] [--mtcnn-weights FILE]
           [--exif-rotate] [--progress | --no-progress]

Says whether each photo's group mood is Negative, Neutral or Positive. INPUT: image files, folders
(searched recursively for .jpg .jpeg .png .bmp .gif .tga) or @LIST files (one path per line,
relative to the list's folder). Faces are detected with MTCNN and aligned as the model asks
(its metadata: the seed's eye-aligned 112x96 crops for seed checkpoints, SphereFace's 96x112 otherwise).

--model FILE         a model written by gler_import (or gler_train): global, local, average, attention_a/b/c;
                     default: the zero-shot default (face-api's expressions -> valence, faces weighted
                     by area; not trained on group-emotion data), data/default/face_expression.safetensors
--aligned-faces DIR  skip detection: read the crops DIR/<folder>/<stem>_<i>.jpg (the layout gler_faces
                     and the seed write; <folder> is the image's folder below its INPUT folder)
--face-features DIR  the average model's <stem>.npz O-Net features (default: beside the crops)
--max-faces N        face slots per image (default: the model's, 15 for the seed's); more faces are dropped
--format FMT         json (default): a list, one object per image; csv: one row per image
--out FILE           write there (atomically) instead of stdout
--annotate DIR       also write DIR/<folder>/<stem>.png: faces shaded by attention, label and probabilities
--batch N            images per model call (default 8)
--device DEV         cpu, cuda or cuda:N (default: cuda:0 when present, else cpu)
--threads N          CPU threads for the model (default: all)
--workers N          images read and detected at once, beside the model (default 2; 0: in turn)
--mtcnn-weights FILE MTCNN weights (default: the bundled data/mtcnn/mtcnn.safetensors)
--exif-rotate        apply the EXIF orientation (the seed and Pillow do not; off by default)
--progress, --no-progress  draw the progress bar (default: with more than one image, when stderr is a terminal)

A failed image (unreadable, truncated, not an image) is reported as `error: FILE: reason` and gets an
"error" in the output; the others go on. Exit status: 0 all done, 1 some image failed, 2 bad
arguments or model.
)";

std::string image_error(const std::string& image, const std::string& error) {
  return "error: " + (error.rfind(image, 0) == 0 ? error : image + ": " + error);
}

int run(int argc, char** argv) {
  using namespace gler;
  using namespace gler::models;
  namespace fs = std::filesystem;
  const cli::Args args(argc, argv,
                       {"--model", "--aligned-faces", "--face-features", "--max-faces", "--format", "--out", "--annotate",
                        "--batch", "--device", "--threads", "--workers", "--mtcnn-weights"},
                       {"--exif-rotate", "--progress", "--no-progress"});
  const std::string model_path = args.get("--model", models::default_model_path());
  GLER_CHECK(args.has("--model") || fs::exists(model_path),
             "no --model given and the default model is not installed (" << model_path << "): run "
             "bash scripts/fetch_face_expression.sh data/default (needs npm), or pass --model");
  const std::string format = args.get("--format", "json");
  GLER_CHECK(format == "json" || format == "csv", "--format must be json or csv, got '" << format << "'");
  GLER_CHECK(!(args.has("--progress") && args.has("--no-progress")), "--progress and --no-progress exclude each other");
  const long long batch = args.get_int("--batch", 8), workers = args.get_int("--workers", 2);
  GLER_CHECK(batch >= 1, "--batch must be at least 1, got " << batch);
  GLER_CHECK(workers >= 0, "--workers must be at least 0, got " << workers);
  if (args.has("--threads")) {
    const long long threads = args.get_int("--threads", 1);
    GLER_CHECK(threads >= 1, "--threads must be at least 1, got " << threads);
    set_cpu_threads(static_cast<int>(threads));
  }
  for (const char* dir : {"--aligned-faces", "--face-features"})
    if (const auto d = args.get(dir)) GLER_CHECK(fs::is_directory(*d), dir << " " << *d << ": not a folder");
  GLER_CHECK(!args.has("--face-features") || args.has("--aligned-faces"), "--face-features goes with --aligned-faces");
  const Device device = cli::device_option(args);
  const std::vector<pipeline::ImageInput> inputs = pipeline::collect_image_inputs(args.positional());

  std::unique_ptr<GlerModel> model = load_model(model_path, device);
  pipeline::InferSettings settings;
  settings.sample.model = model->info();
  if (args.has("--max-faces")) {
    const long long max_faces = args.get_int("--max-faces", 15);
    GLER_CHECK(max_faces >= 1 && max_faces <= 1000, "--max-faces must be 1..1000, got " << max_faces);
    settings.sample.model.max_faces = static_cast<int>(max_faces);
  }
  settings.sample.decode.exif_rotate = args.has("--exif-rotate");
  if (const auto d = args.get("--aligned-faces")) settings.sample.aligned_faces = fs::path(*d);
  if (const auto d = args.get("--face-features")) settings.sample.face_features = fs::path(*d);
  const std::optional<std::string> annotate_dir = args.get("--annotate");
  settings.sample.keep_picture = annotate_dir.has_value();
  settings.batch = static_cast<int>(batch);
  settings.workers = static_cast<int>(workers);
  const ModelInfo& info = settings.sample.model;
  std::unique_ptr<faces::MtcnnDetector> detector;
  if ((info.uses_faces() || info.uses_face_features()) && !settings.sample.aligned_faces) {
    faces::MtcnnOptions options;
    options.seed_feature_indexing = info.seed_compat;  // the seed's FaceFeatures rows (SEED_SPEC §3.6)
    detector = std::make_unique<faces::MtcnnDetector>(args.get("--mtcnn-weights", faces::bundled_mtcnn_weights()), device,
                                                      options);
  }

  const bool draw = args.has("--progress") || (inputs.size() > 1 && cli::progress_wanted(false, args.has("--no-progress")));
  cli::ProgressBar progress(inputs.size(), "images", "img/s", {"faces", "errors"}, draw, std::cerr);
  json::Array results;
  std::string csv = pipeline::csv_header();
  std::size_t failed = 0;
  pipeline::run_inference(inputs, *model, detector.get(), device, settings,
                          [&](const pipeline::ImageInput& input, const pipeline::Prediction& p, const pipeline::GroupSample* s) {
                            if (!p.error.empty()) {
                              ++failed;
                              progress.print_line(image_error(input.path, p.error));
                            } else if (annotate_dir) {
                              try {
                                const fs::path png = fs::path(*annotate_dir) / input.relative.parent_path() /
                                                     fs::path(input.relative.stem()).concat(".png");
                                fs::create_directories(png.parent_path());
                                io::write_png(pipeline::annotate(s->picture, p), png.string());
                              } catch (const std::exception& e) {
                                GLER_FAIL("--annotate: " << e.what());
                              }
                            }
                            progress.advance({p.faces_found, p.error.empty() ? 0 : 1});
                            if (format == "json") results.push_back(pipeline::to_json(p));
                            else csv += pipeline::to_csv_row(p);
                          });
  progress.finish();
  const std::string text = format == "json" ? json::dump(json::Value(std::move(results)), 1) + "\n" : csv;
  if (const auto out = args.get("--out")) io::write_text_atomic(*out, text);
  else std::cout << text << std::flush;
  return failed > 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) { return gler::cli::run_main(argc, argv, kUsage, run); }
