// gler_bench: end-to-end network throughput (bench/model_bench.h). Contract: docs/CLI.md;
// tables: docs/PERFORMANCE.md.
#include <iostream>
#include <string>

#include "apps/cli/cli.h"
#include "bench/model_bench.h"
#include "core/backend.h"
#include "core/cpu/threads.h"
#include "core/error.h"
#include "io/image.h"
#include "io/json.h"
#include "models/faces/mtcnn_detector.h"

namespace {

const char* kUsage = R"(gler_bench --model ARCH [--device cpu|cuda[:N]] [--batch N] [--faces N] [--train]
           [--threads N] [--warmup W] [--runs R] [--layout sphereface|seed] [--weights FILE] [--json]
gler_bench --model mtcnn --image PHOTO [--device D] [--threads N] [--warmup W] [--runs R] [--weights FILE] [--json]

Times one network, randomly initialised or with --weights: W warm-up runs (default 2), then the median of R timed
runs (default 10) of a forward pass (no autograd bookkeeping) or, with --train, a forward and
backward pass in train mode.

--model ARCH   densenet161 densenet121 sphere20a pnet rnet onet, or mtcnn: the whole face detection
               (pyramid, three stages, NMS) of --image, decoded once beforehand, with the bundled
               weights unless --weights names another MTCNN file
--batch N      images per batch (default 1): DenseNets take 224x224 images, P-Net the first
               pyramid level of a 640x480 photo (384x288), R-Net 24x24 and O-Net 48x48 crops
--faces N      sphere20a: faces per batch (default 15)
--layout L     sphere20a input: sphereface = 112 high x 96 wide (default), seed = 96 x 112 as the
               seed feeds it
--weights FILE a checkpoint to load by name (gler_import's safetensors or a PyTorch file); for
               pnet/rnet/onet their part of an MTCNN file (data/mtcnn/mtcnn.safetensors). A file of
               another architecture is refused with every missing/unexpected/mis-shaped tensor
--threads N    CPU threads for OpenMP and OpenBLAS (default: as the environment says)
--json         print one JSON object: model, device, batch, threads, train, runs, ms_per_batch
               (median), ms_min, images_per_s, peak_bytes (host RSS growth at the peak on the CPU,
               the allocator's peak on a GPU), tensor_peak_bytes
)";

int run(int argc, char** argv) {
  using namespace gler;
  const cli::Args args(argc, argv, {"--model", "--device", "--batch", "--faces", "--threads", "--warmup", "--runs", "--layout", "--weights", "--image"},
                       {"--train", "--json"});
  GLER_CHECK(args.positional().empty(), "unexpected argument '" << args.positional().front() << "' (see --help)");
  const std::string model = args.require("--model");
  const Device device = cli::device_option(args);
  const long long batch = args.get_int("--batch", 1), faces = args.get_int("--faces", 15);
  GLER_CHECK(batch >= 1 && faces >= 1, "--batch and --faces must be at least 1");
  const std::string layout = args.get("--layout", "sphereface");
  GLER_CHECK(layout == "sphereface" || layout == "seed", "--layout must be sphereface or seed, got '" << layout << "'");
  if (args.has("--threads")) set_cpu_threads(static_cast<int>(args.get_int("--threads", 1)));
  const bool train = args.has("--train");
  const int warmup = static_cast<int>(args.get_int("--warmup", 2)), runs = static_cast<int>(args.get_int("--runs", 10));

  bench::BenchResult r;
  std::int64_t images = 0;
  if (model == "mtcnn") {
    GLER_CHECK(!train, "--train does not apply to --model mtcnn");
    const io::Image photo = io::to_rgb(io::read_image(args.require("--image")));
    const models::faces::MtcnnDetector detector(args.get("--weights", models::faces::bundled_mtcnn_weights()), device);
    images = 1;
    r = bench::time_calls([&] { detector.detect(photo); }, images, backend_for(device), warmup, runs);
  } else {
    GLER_CHECK(!args.has("--image"), "--image applies to --model mtcnn only");
    const bench::BenchNet net = bench::make_bench_net(model, batch, faces, layout == "seed", device);
    if (const auto weights = args.get("--weights")) bench::load_bench_weights(net, model, *weights);
    r = bench::run_bench(net, train, warmup, runs);
    images = net.images;
  }
  const std::size_t peak = device.is_cpu() ? r.peak_rss_bytes : r.peak_tensor_bytes;
  if (args.has("--json")) {
    json::Object o{{"model", model},
                 {"device", device_name(device)},
                 {"batch", static_cast<long long>(images)},
                 {"threads", cpu_threads()},
                 {"train", train},
                 {"runs", r.runs},
                 {"ms_per_batch", r.ms_median},
                 {"ms_min", r.ms_min},
                 {"images_per_s", r.images_per_s},
                 {"peak_bytes", static_cast<long long>(peak)},
                 {"tensor_peak_bytes", static_cast<long long>(r.peak_tensor_bytes)}};
    std::cout << json::dump(json::Value(std::move(o))) << '\n';
  } else {
    std::cout << model << " on " << device_name(device) << ", " << images << (model == "sphere20a" ? " faces" : " images")
              << (train ? ", forward + backward" : ", forward") << ": " << r.ms_median << " ms per batch (median of "
              << r.runs << "), " << r.images_per_s << " per s, peak " << peak / (1024.0 * 1024.0) << " MiB\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return gler::cli::run_main(argc, argv, kUsage, run); }
