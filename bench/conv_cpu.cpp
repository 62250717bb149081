// bench_conv_cpu: GFLOP/s of the CPU convolution kernels (forward, backward data, backward filter)
// on the convolution shapes of DenseNet-161 (224x224 input) and sphere20a (96x112 input), beside
// OpenBLAS's raw sgemm on a 2048^3 product measured in the same run. Not a test: it prints a
// markdown table for docs/PERFORMANCE.md.
//
// Usage: bench_conv_cpu [--batch N] [--reps R] [--best] [--only SUBSTRING] [--shapes] [--sgemm]
//   --best    time by the fastest run instead of the median (robust to a loaded machine);
//   --only    the shapes whose name contains SUBSTRING, without the sgemm line;
//   --shapes  one line per shape, "name|N C H W K R stride pad bias", for bench/conv_cpu_torch.py;
//   --sgemm   only the sgemm line.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/init.h"
#include "core/tensor.h"
#include "layers/conv2d.h"

using namespace gler;

namespace {

struct ConvShape {
  std::string name;
  std::int64_t C, H, W, K;
  int R, stride, pad;
  bool bias;
};

// Dense layer l of a block with c0 input channels reads c0 + 48(l-1) channels: the middle layer
// of each block stands for its 1x1 convolutions.
std::vector<ConvShape> shapes() {
  return {
      {"densenet conv0 7x7 s2", 3, 224, 224, 96, 7, 2, 3, false},
      {"densenet block1 1x1 240->192", 240, 56, 56, 192, 1, 1, 0, false},
      {"densenet block1 3x3 192->48", 192, 56, 56, 48, 3, 1, 1, false},
      {"densenet transition1 1x1 384->192", 384, 56, 56, 192, 1, 1, 0, false},
      {"densenet block2 1x1 480->192", 480, 28, 28, 192, 1, 1, 0, false},
      {"densenet block2 3x3 192->48", 192, 28, 28, 48, 3, 1, 1, false},
      {"densenet transition2 1x1 768->384", 768, 28, 28, 384, 1, 1, 0, false},
      {"densenet block3 1x1 1248->192", 1248, 14, 14, 192, 1, 1, 0, false},
      {"densenet block3 3x3 192->48", 192, 14, 14, 48, 3, 1, 1, false},
      {"densenet transition3 1x1 2112->1056", 2112, 14, 14, 1056, 1, 1, 0, false},
      {"densenet block4 1x1 1632->192", 1632, 7, 7, 192, 1, 1, 0, false},
      {"densenet block4 3x3 192->48", 192, 7, 7, 48, 3, 1, 1, false},
      {"sphere conv1_1 3->64 s2", 3, 96, 112, 64, 3, 2, 1, true},
      {"sphere conv1_x 64->64", 64, 48, 56, 64, 3, 1, 1, true},
      {"sphere conv2_1 64->128 s2", 64, 48, 56, 128, 3, 2, 1, true},
      {"sphere conv2_x 128->128", 128, 24, 28, 128, 3, 1, 1, true},
      {"sphere conv3_1 128->256 s2", 128, 24, 28, 256, 3, 2, 1, true},
      {"sphere conv3_x 256->256", 256, 12, 14, 256, 3, 1, 1, true},
      {"sphere conv4_1 256->512 s2", 256, 12, 14, 512, 3, 2, 1, true},
      {"sphere conv4_x 512->512", 512, 6, 7, 512, 3, 1, 1, true},
  };
}

double now_ms() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

// Median (or, with `best`, fastest) wall time of `reps` runs after one warm-up run.
struct Timing {
  int reps = 5;
  bool best = false;
};

template <class F>
double time_ms(const Timing& timing, F&& f) {
  f();
  std::vector<double> t;
  for (int i = 0; i < timing.reps; ++i) {
    const double t0 = now_ms();
    f();
    t.push_back(now_ms() - t0);
  }
  std::sort(t.begin(), t.end());
  return timing.best ? t.front() : t[t.size() / 2];
}

Tensor random_tensor(const Shape& shape, Generator& gen) {
  Tensor t = Tensor::empty(shape);
  uniform_(t, -1, 1, gen);
  return t;
}

double sgemm_gflops(const Timing& timing) {
  const int n = 2048;
  Generator gen(1);
  const Tensor a = random_tensor({n, n}, gen), b = random_tensor({n, n}, gen);
  Tensor c = Tensor::empty({n, n});
  const double ms = time_ms(timing, [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data<float>(), n, b.data<float>(), n,
                0.0f, c.data<float>(), n);
  });
  return 2.0 * n * n * n / (ms * 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t batch = 4;
  Timing timing;
  std::string only;
  bool list = false, sgemm_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--batch" && i + 1 < argc)
      batch = std::atoll(argv[++i]);
    else if (arg == "--reps" && i + 1 < argc)
      timing.reps = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--only" && i + 1 < argc)
      only = argv[++i];
    else if (arg == "--shapes")
      list = true;
    else if (arg == "--sgemm")
      sgemm_only = true;
    else if (arg == "--best")
      timing.best = true;
    else {
      std::fprintf(stderr, "usage: bench_conv_cpu [--batch N] [--reps R] [--best] [--only SUBSTRING] [--shapes] [--sgemm]\n");
      return 2;
    }
  }
  std::vector<ConvShape> selected;
  for (const ConvShape& s : shapes())
    if (only.empty() || s.name.find(only) != std::string::npos) selected.push_back(s);
  if (list) {
    for (const ConvShape& s : selected)
      std::printf("%s|%lld %lld %lld %lld %lld %d %d %d %d\n", s.name.c_str(), static_cast<long long>(batch),
                  static_cast<long long>(s.C), static_cast<long long>(s.H), static_cast<long long>(s.W),
                  static_cast<long long>(s.K), s.R, s.stride, s.pad, s.bias ? 1 : 0);
    return 0;
  }

  if (only.empty() || sgemm_only)
    std::printf("OpenBLAS sgemm 2048^3: %.1f GFLOP/s (%d threads, %s kernels)\n", sgemm_gflops(timing),
                openblas_get_num_threads(), openblas_get_corename());
  if (sgemm_only) return 0;

  Backend& cpu = backend_for(Device::CPU);
  std::printf("\n| shape (batch %lld, %s of %d) | GFLOP | fwd ms | fwd GFLOP/s | bwd data ms | GFLOP/s | bwd filter ms | GFLOP/s |\n",
              static_cast<long long>(batch), timing.best ? "best" : "median", timing.reps);
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
  Generator gen(7);
  for (const ConvShape& s : selected) {
    Conv2dArgs a{s.stride, s.stride, s.pad, s.pad, 1, 1, 1};
    const std::int64_t P = layers::conv2d_output_size(s.H, s.R, s.stride, s.pad, 1);
    const std::int64_t Q = layers::conv2d_output_size(s.W, s.R, s.stride, s.pad, 1);
    const Tensor x = random_tensor({batch, s.C, s.H, s.W}, gen), w = random_tensor({s.K, s.C, s.R, s.R}, gen);
    const Tensor b = random_tensor({s.K}, gen), gy = random_tensor({batch, s.K, P, Q}, gen);
    Tensor y = Tensor::empty(gy.shape()), gx = Tensor::empty(x.shape()), gw = Tensor::empty(w.shape());
    Tensor gb = Tensor::empty(b.shape());
    const double gflop = 2.0 * batch * s.K * s.C * s.R * s.R * P * Q / 1e9;
    const double fwd = time_ms(timing, [&] { cpu.conv2d_forward(a, x, w, s.bias ? &b : nullptr, y); });
    const double data = time_ms(timing, [&] { cpu.conv2d_backward_data(a, gy, w, gx); });
    const double filter = time_ms(timing, [&] { cpu.conv2d_backward_filter(a, x, gy, gw, s.bias ? &gb : nullptr); });
    std::printf("| %s | %.3f | %.2f | %.1f | %.2f | %.1f | %.2f | %.1f |\n", s.name.c_str(), gflop, fwd,
                gflop / fwd * 1e3, data, gflop / data * 1e3, filter, gflop / filter * 1e3);
    std::fflush(stdout);
  }
  return 0;
}
