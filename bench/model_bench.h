// End-to-end network benchmarks behind gler_bench: a network at its input size, warm-up runs, then
// the median of timed runs of a forward (under NoGradGuard) or a forward + backward (train mode).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/module.h"

namespace gler::bench {

struct BenchNet {
  std::shared_ptr<Module> module;
  Tensor input;
  std::function<Tensor(const Tensor&)> forward;  // the output a loss would be computed from
  std::int64_t images = 0;                        // images (faces for sphere20a) per batch
};

// The networks gler_bench knows, in --model spelling.
const std::vector<std::string>& bench_models();

// `arch` from bench_models(), randomly initialised (seed 0), with an input of `batch` images
// (sphere20a: `faces` faces, 112x96, or 96x112 as the seed feeds it when seed_layout).
BenchNet make_bench_net(const std::string& arch, std::int64_t batch, std::int64_t faces, bool seed_layout,
                        Device device);
// Loads a checkpoint into net by name (models::load_weights; for pnet/rnet/onet the matching part
// of an MTCNN file such as data/mtcnn/mtcnn.safetensors). Throws, listing every missing,
// unexpected and mis-shaped tensor, when the file is of another architecture.
void load_bench_weights(const BenchNet& net, const std::string& arch, const std::string& path);

struct BenchResult {
  int runs = 0;
  double ms_median = 0, ms_min = 0, images_per_s = 0;
  // Host RSS growth over the timed runs' peak (CPU) and the backend's tensor peak (any device).
  std::size_t peak_rss_bytes = 0, peak_tensor_bytes = 0;
};

BenchResult run_bench(const BenchNet& net, bool train, int warmup, int runs);

// The same timing loop around any call that processes `images` images on `backend`'s device
// (run_bench uses it; gler_bench --model mtcnn times whole detections with it).
BenchResult time_calls(const std::function<void()>& call, std::int64_t images, Backend& backend, int warmup, int runs);

}  // namespace gler::bench
