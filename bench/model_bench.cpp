#include "bench/model_bench.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>

#include "core/autograd.h"
#include "core/backend.h"
#include "core/error.h"

namespace gler::bench {

namespace {

// VmRSS / VmHWM of this process in bytes (Linux /proc); 0 where unavailable.
std::size_t proc_status_bytes(const std::string& key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key + ":", 0) == 0) return static_cast<std::size_t>(std::stoull(line.substr(key.size() + 1))) * 1024;
  return 0;
}

}  // namespace

std::size_t rss_bytes() { return proc_status_bytes("VmRSS"); }

namespace {

// Resets the peak RSS (VmHWM) to the current RSS, so the peak measured next is this run's.
void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

void run_once(const BenchNet& net, bool train) {
  if (train) {
    net.module->zero_grad();
    backward(net.loss(net.forward()));
  } else {
    NoGradGuard no_grad;
    net.forward();
  }
}

}  // namespace

BenchResult time_calls(const std::function<void()>& call, std::int64_t images, Backend& backend, int warmup, int runs) {
  GLER_CHECK(runs >= 1 && warmup >= 0, "need at least one timed run, got " << runs);
  auto timed = [&] {
    const auto t0 = std::chrono::steady_clock::now();
    call();
    backend.synchronize();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  };
  for (int i = 0; i < warmup; ++i) timed();
  backend.reset_peak_bytes();
  reset_peak_rss();
  const std::size_t rss_before = rss_bytes();
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) ms.push_back(timed());
  std::sort(ms.begin(), ms.end());
  BenchResult r;
  r.runs = runs;
  r.ms_median = ms[ms.size() / 2];
  r.ms_min = ms.front();
  r.images_per_s = static_cast<double>(images) * 1000.0 / r.ms_median;
  const std::size_t hwm = proc_status_bytes("VmHWM");
  r.peak_rss_bytes = hwm > rss_before ? hwm - rss_before : 0;
  r.rss_high_water_bytes = hwm;
  r.peak_tensor_bytes = backend.peak_bytes();
  return r;
}

BenchResult run_bench(const BenchNet& net, bool train, int warmup, int runs) {
  net.module->train(train);
  return time_calls([&] { run_once(net, train); }, net.images, backend_for(net.device), warmup, runs);
}

}  // namespace gler::bench
