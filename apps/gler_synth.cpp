// gler_synth: writes a synthetic dataset in the seed's EmotiW layout (photos, VAL/EVAL lists and the
// face cache gler_faces would write), for tests and demos (train/synth). Contract: docs/CLI.md.
#include <cstdint>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

#include "apps/cli/cli.h"
#include "apps/cli/progress.h"
#include "core/error.h"
#include "train/synth/synth_dataset.h"
#include "train/synth/synth_plan.h"

namespace {

const char* kUsage = R"(gler_synth --out DIR [--train N] [--val N] [--seed S] [--max-faces-per-image K] [--faceless P]
           [--align seed|sphereface] [--device cpu|cuda[:N]] [--weights FILE] [--progress | --no-progress]

Draws group photos of cartoon faces whose mouths show their expression (smile: Positive, straight:
Neutral, frown: Negative) and labels each photo by the expression most of its faces show. Under DIR:
  emotiw/{train,val}/{Negative,Neutral,Positive}/{neg,neu,pos}_<k>.jpg   the photos
  val_list, test_list (pickled lists of val file names) and val_list.txt, test_list.txt
  FaceCoordinates/ FaceFeatures/ AlignedCroppedImages/ FaceJson/         what gler_faces writes
  gler_synth.json                                                       what was drawn, face by face
The same arguments give the same bytes.

--out DIR                 where the dataset goes (created)
--train N, --val N        photos per split (default 300 and 150), shared evenly among the classes
--seed S                  random seed, a non-negative integer (default 0)
--max-faces-per-image K   at most K faces per photo (default 20, 1 to 100)
--faceless P              the probability that a Neutral photo has no faces (default 0.15; 0: every
                          photo shows faces, for models that see only faces)
--align MODE              seed: the seed's eye-based 112x96 crops (default); sphereface: 96x112
--device DEV              where O-Net computes the face features: cpu, cuda or cuda:N (default:
                          cuda:0 when present, else cpu)
--weights FILE            MTCNN weights (default: the bundled data/mtcnn/mtcnn.safetensors)
--progress, --no-progress  draw the progress bar or not (default: when stderr is a terminal)

Exit status: 0 done, 2 bad arguments or a failure to write.
)";

int count_option(const gler::cli::Args& args, const std::string& name, long long fallback, long long least, long long most) {
  const long long v = args.get_int(name, fallback);
  GLER_CHECK(v >= least && v <= most, name << " must be an integer from " << least << " to " << most << ", got " << v);
  return static_cast<int>(v);
}

std::uint64_t seed_option(const gler::cli::Args& args) {
  const std::string text = args.get("--seed", "0");
  const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  try {
    if (digits) return std::stoull(text);
  } catch (const std::exception&) {
    // out of range: reported below
  }
  GLER_FAIL("--seed must be an integer from 0 to 2^64 - 1, got '" << text << "'");
}

int run(int argc, char** argv) {
  using namespace gler;
  const cli::Args args(argc, argv, {"--out", "--train", "--val", "--seed", "--max-faces-per-image", "--faceless", "--align", "--device", "--weights"},
                       {"--progress", "--no-progress"});
  GLER_CHECK(args.positional().empty(), "unexpected argument '" << args.positional().front() << "' (see --help)");
  GLER_CHECK(!(args.has("--progress") && args.has("--no-progress")), "--progress and --no-progress exclude each other");
  synth::SynthOptions options;
  options.out = args.require("--out");
  // Numbers fit an int, and k in <prefix>_<k> the 32 bits of an image's random stream.
  constexpr long long kMostImages = 1'000'000'000;
  options.train = count_option(args, "--train", 300, 0, kMostImages);
  options.val = count_option(args, "--val", 150, 0, kMostImages);
  options.max_faces = count_option(args, "--max-faces-per-image", 20, 1, synth::kMaxFacesPerImage);
  options.faceless = args.get_double("--faceless", 0.15);
  GLER_CHECK(options.faceless >= 0 && options.faceless <= 1,
             "--faceless must be a probability from 0 to 1, got " << args.get("--faceless", ""));
  options.seed = seed_option(args);
  const std::string align = args.get("--align", "seed");
  GLER_CHECK(align == "seed" || align == "sphereface", "--align must be seed or sphereface, got '" << align << "'");
  options.align = models::faces::parse_align_mode(align);
  GLER_CHECK(options.train + options.val > 0, "nothing to write: --train and --val are both 0");
  const Device device = cli::device_option(args);
  const models::faces::MtcnnDetector detector(args.get("--weights", models::faces::bundled_mtcnn_weights()), device);

  cli::ProgressBar progress(static_cast<std::size_t>(options.train + options.val), "images", "img/s", {"faces"},
                            cli::progress_wanted(args.has("--progress"), args.has("--no-progress")), std::cerr);
  const synth::SynthSummary summary =
      synth::write_synth_dataset(options, detector, [&](std::size_t faces) { progress.advance({static_cast<long long>(faces)}); });
  const double seconds = progress.elapsed_s();
  progress.finish();

  char rate[64];
  std::snprintf(rate, sizeof rate, "%.1f s, %.1f img/s", seconds, seconds > 0 ? static_cast<double>(summary.images) / seconds : 0.0);
  std::cerr << "gler_synth: " << summary.images << " images (train " << options.train << ", val " << options.val
            << ": val_list " << summary.val_list << ", test_list " << summary.test_list << "); " << summary.faces
            << " faces; " << rate << "; " << options.out.string() << '\n';
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return gler::cli::run_main(argc, argv, kUsage, run); }
