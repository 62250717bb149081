// gler_bench: end-to-end throughput of the networks, the GLER models and the whole photo pipeline
// (bench/model_bench.h, bench/pipeline_bench.h). Contract: docs/CLI.md; tables: docs/PERFORMANCE.md.
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>

#include "apps/cli/cli.h"
#include "bench/model_bench.h"
#include "bench/pipeline_bench.h"
#include "core/backend.h"
#include "core/cpu/threads.h"
#include "core/error.h"
#include "io/image.h"
#include "io/json.h"
#include "models/faces/mtcnn_detector.h"
#include "models/gler/gler_model.h"

namespace {

const char* kUsage = R"(gler_bench --model ARCH [--device cpu|cuda[:N]] [--batch N] [--faces N] [--train]
           [--threads N] [--warmup W] [--runs R] [--layout sphereface|seed] [--weights FILE] [--json]
gler_bench --model mtcnn --image PHOTO [--device D] [--threads N] [--warmup W] [--runs R] [--weights FILE] [--json]
gler_bench --pipeline DIR [--weights MODEL] [--batch N] [--device D] [--threads N] [--warmup W] [--runs R] [--json]

Times one network or GLER model, randomly initialised or with --weights: W warm-up runs (default 2),
then the median of R timed runs (default 10) of a forward pass (no autograd bookkeeping) or, with
--train, a forward and backward pass in train mode.

--model ARCH   densenet161 densenet121 sphere20a pnet rnet onet; the GLER models global local average
               attention_a attention_b attention_c attention_b_emotic attention_c_emotic (initialised
               as gler_import --init does); or mtcnn: the whole face detection (pyramid, three stages,
               NMS) of --image, decoded once beforehand, with the bundled weights unless --weights
               names another MTCNN file
--pipeline DIR the whole pipeline over every photo in DIR (decode, MTCNN, alignment, preprocessing,
               model, label; in turn on one thread, as gler_infer --workers 0), one pass per run;
               the model is --weights (a gler_import file; default: the installed default model)
--batch N      images per batch (default 1): DenseNets and GLER models take 224x224 images, P-Net the
               first pyramid level of a 640x480 photo (384x288), R-Net 24x24 and O-Net 48x48 crops;
               --pipeline: photos per model call
--faces N      sphere20a: faces per batch; GLER models: faces per image, every slot filled (default 15)
--layout L     sphereface (default) or seed: sphere20a takes 96 high x 112 wide faces as the seed feeds
               it (default 112 x 96); a GLER model is the seed-compatible variant (gler_import
               --seed-compat: the seed's quirks and face layout)
--train        forward and backward: of the output's sum for the networks, of the cross-entropy of
               the logits for the GLER models (with dropout)
--weights FILE a checkpoint to load by name (gler_import's safetensors or a PyTorch file); for
               pnet/rnet/onet their part of an MTCNN file (data/mtcnn/mtcnn.safetensors). A file of
               another architecture is refused with every missing/unexpected/mis-shaped tensor
--threads N    CPU threads for OpenMP and OpenBLAS (default: as the environment says)
--json         print one JSON object: model, device, batch, threads, train, runs, ms_per_batch
               (median), ms_min, images_per_s, peak_bytes (host RSS growth at the peak on the CPU,
               the allocator's peak on a GPU), tensor_peak_bytes, rss_peak_bytes (the RSS at that peak
               less the RSS at start: weights, inputs and working memory); networks and GLER models add
               gflop (2 x the multiply-accumulates of convolutions and linear layers per batch; with
               --train forward + 2 x the forward of the layers the gradient reaches) and gflop_per_s,
               and faces where faces are input; --pipeline adds arch, photos, faces, prepare_ms, model_ms
)";

using gler::json::Object;

std::size_t peak_bytes(gler::Device device, const gler::bench::BenchResult& r) {
  return device.is_cpu() ? r.peak_rss_bytes : r.peak_tensor_bytes;
}

// The process's RSS before anything was built: rss_peak_bytes counts from it.
std::size_t rss_at_start = 0;

// The fields every mode prints.
Object timing_fields(const std::string& model, gler::Device device, long long batch, bool train,
                     const gler::bench::BenchResult& r) {
  const std::size_t high = r.rss_high_water_bytes;
  return Object{{"model", model},
                {"device", gler::device_name(device)},
                {"batch", batch},
                {"threads", gler::cpu_threads()},
                {"train", train},
                {"runs", r.runs},
                {"ms_per_batch", r.ms_median},
                {"ms_min", r.ms_min},
                {"images_per_s", r.images_per_s},
                {"peak_bytes", static_cast<long long>(peak_bytes(device, r))},
                {"tensor_peak_bytes", static_cast<long long>(r.peak_tensor_bytes)},
                {"rss_peak_bytes", static_cast<long long>(high > rss_at_start ? high - rss_at_start : 0)}};
}

// The JSON object, or a line of text ending in the peak memory.
void print(Object o, bool as_json, const std::ostringstream& text, std::size_t peak) {
  if (as_json) std::cout << gler::json::dump(gler::json::Value(std::move(o))) << '\n';
  else std::cout << text.str() << ", peak " << static_cast<double>(peak) / (1024.0 * 1024.0) << " MiB\n";
}


int run(int argc, char** argv) {
  using namespace gler;
  rss_at_start = bench::rss_bytes();
  const cli::Args args(argc, argv,
                       {"--model", "--pipeline", "--device", "--batch", "--faces", "--threads", "--warmup", "--runs",
                        "--layout", "--weights", "--image"},
                       {"--train", "--json"});
  GLER_CHECK(args.positional().empty(), "unexpected argument '" << args.positional().front() << "' (see --help)");
  GLER_CHECK(args.has("--model") != args.has("--pipeline"), "give one of --model ARCH and --pipeline DIR (see --help)");
  const Device device = cli::device_option(args);
  const long long batch = args.get_int("--batch", 1), faces = args.get_int("--faces", 15);
  GLER_CHECK(batch >= 1 && faces >= 1, "--batch and --faces must be at least 1");
  const std::string layout = args.get("--layout", "sphereface");
  GLER_CHECK(layout == "sphereface" || layout == "seed", "--layout must be sphereface or seed, got '" << layout << "'");
  if (args.has("--threads")) set_cpu_threads(static_cast<int>(args.get_int("--threads", 1)));
  const bool train = args.has("--train"), as_json = args.has("--json");
  const int warmup = static_cast<int>(args.get_int("--warmup", 2)), runs = static_cast<int>(args.get_int("--runs", 10));

  if (const auto folder = args.get("--pipeline")) {
    for (const char* option : {"--train", "--faces", "--layout", "--image"})
      GLER_CHECK(!args.has(option), option << " does not apply to --pipeline");
    GLER_CHECK(std::filesystem::is_directory(*folder), "--pipeline " << *folder << ": not a folder");
    const std::string model_path = args.get("--weights", models::default_model_path());
    GLER_CHECK(args.has("--weights") || std::filesystem::exists(model_path),
               "no --weights given and the default model is not installed (" << model_path << "): run "
               "bash scripts/fetch_face_expression.sh data/default, or pass --weights (e.g. a gler_import --init model)");
    const bench::PipelineResult p = bench::run_pipeline_bench(*folder, model_path, device, static_cast<int>(batch), warmup, runs);
    Object o = timing_fields("pipeline", device, p.photos, false, p.timing);
    o.emplace_back("arch", p.arch);
    o.emplace_back("photos", p.photos);
    o.emplace_back("faces", p.faces);
    o.emplace_back("prepare_ms", p.prepare_ms);
    o.emplace_back("model_ms", p.model_ms);
    std::ostringstream text;
    text << "pipeline (" << p.arch << ") over " << p.photos << " photos, " << p.faces << " faces on " << device_name(device)
         << ": " << p.timing.ms_median << " ms per pass (prepare " << p.prepare_ms << ", model " << p.model_ms << "), "
         << p.timing.images_per_s << " photos per s";
    print(std::move(o), as_json, text, peak_bytes(device, p.timing));
    return 0;
  }

  const std::string model = *args.get("--model");
  if (model == "mtcnn") {
    GLER_CHECK(!train, "--train does not apply to --model mtcnn");
    const io::Image photo = io::to_rgb(io::read_image(args.require("--image")));
    const models::faces::MtcnnDetector detector(args.get("--weights", models::faces::bundled_mtcnn_weights()), device);
    const bench::BenchResult r = bench::time_calls([&] { detector.detect(photo); }, 1, backend_for(device), warmup, runs);
    std::ostringstream text;
    text << "mtcnn on " << device_name(device) << ": " << r.ms_median << " ms per detection (median of " << r.runs << ")";
    print(timing_fields(model, device, 1, false, r), as_json, text, peak_bytes(device, r));
    return 0;
  }
  GLER_CHECK(!args.has("--image"), "--image applies to --model mtcnn only");
  const bench::BenchNet net = bench::make_bench_net(model, batch, faces, layout == "seed", device);
  if (const auto weights = args.get("--weights")) bench::load_bench_weights(net, model, *weights);
  const bench::BenchResult r = bench::run_bench(net, train, warmup, runs);
  const double gflop = (train ? net.flop.train_step() : net.flop.forward) * 1e-9;
  Object o = timing_fields(model, device, net.images, train, r);
  if (net.faces > 0) o.emplace_back("faces", static_cast<long long>(net.faces));
  o.emplace_back("gflop", gflop);
  o.emplace_back("gflop_per_s", gflop * 1000.0 / r.ms_median);
  std::ostringstream text;
  text << model << " on " << device_name(device) << ", " << net.images << (model == "sphere20a" ? " faces" : " images")
       << (train ? ", forward + backward" : ", forward") << ": " << r.ms_median << " ms per batch (median of " << r.runs
       << "), " << r.images_per_s << " per s, " << gflop * 1000.0 / r.ms_median << " GFLOP/s";
  print(std::move(o), as_json, text, peak_bytes(device, r));
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return gler::cli::run_main(argc, argv, kUsage, run); }
