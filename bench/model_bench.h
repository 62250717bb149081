// End-to-end benchmarks behind gler_bench: a network or GLER model at its input size, warm-up runs,
// then the median of timed runs of a forward (under NoGradGuard) or a forward + backward (train
// mode); and the whole photo pipeline over a folder (pipeline_bench.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench/flops.h"
#include "core/backend.h"
#include "core/module.h"

namespace gler::bench {

struct BenchNet {
  std::shared_ptr<Module> module;
  Device device;
  std::function<Tensor()> forward;             // one forward of the prepared inputs
  std::function<Tensor(const Tensor&)> loss;   // forward's output -> the scalar a training step differentiates
  std::int64_t images = 0;                     // images per batch (faces for sphere20a)
  std::int64_t faces = 0;                      // faces per image (GLER models using faces), per batch (sphere20a)
  FlopCount flop;                              // of one batch
};

// The networks and GLER models gler_bench knows, in --model spelling.
const std::vector<std::string>& bench_models();

// `arch` from bench_models(), randomly initialised (seed 0; the GLER models as gler_import --init
// draws them), with random inputs: `batch` images, and for sphere20a `faces` faces (112x96, or 96x112
// as the seed feeds it when seed_layout); a GLER model gets `faces` filled face slots per image
// (max_faces = faces) and, with seed_layout, is the seed-compatible variant (seed_compat).
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
  std::size_t rss_high_water_bytes = 0;  // the process's RSS at the peak of the timed runs
};

BenchResult run_bench(const BenchNet& net, bool train, int warmup, int runs);

// This process's resident set (Linux /proc; 0 where unavailable).
std::size_t rss_bytes();

// The same timing loop around any call that processes `images` images on `backend`'s device
// (run_bench uses it; gler_bench --model mtcnn and --pipeline time whole detections and passes with it).
BenchResult time_calls(const std::function<void()>& call, std::int64_t images, Backend& backend, int warmup, int runs);

}  // namespace gler::bench
