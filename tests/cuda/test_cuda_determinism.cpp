// GPU runs that repeat bit for bit. With GLER_DETERMINISTIC=1 (ctest sets it for every gpu test)
// cuDNN may only use convolution algorithms it reports as deterministic; some others accumulate
// with atomics, so the same algorithm on the same inputs rounds differently from run to run. Max
// pooling's backward and scatter-add gather instead of accumulating atomically. Each case runs
// twice on the same device inputs into fresh outputs; the bytes must agree.
#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/tensor.h"
#include "tests/cuda/parity.h"

using namespace gler;
using test::random_cpu;

namespace {

using Outputs = std::vector<Tensor>;

void check_repeats(const std::string& name, const std::function<Outputs()>& run) {
  const Outputs first = run(), second = run();
  REQUIRE(first.size() == second.size());
  for (std::size_t i = 0; i < first.size(); ++i) {
    const std::string why = test::compare(second[i], first[i].to(Device::CPU), true, 0.0);
    CHECK_MESSAGE(why.empty(), name << " output " << i << " differs between two runs: " << why);
  }
}

Tensor gpu_random(const Shape& s, DType t, std::uint64_t seed) { return random_cpu(s, t, seed).to(Device::CUDA); }

std::int64_t conv_out(std::int64_t in, int k, int stride, int pad, int dil) {
  return (in + 2 * pad - dil * (k - 1) - 1) / stride + 1;
}

}  // namespace

TEST_CASE("convolutions repeat bit for bit under GLER_DETERMINISTIC=1") {
  const char* mode = std::getenv("GLER_DETERMINISTIC");
  REQUIRE_MESSAGE((mode != nullptr && std::strcmp(mode, "1") == 0),
                  "run with GLER_DETERMINISTIC=1 (ctest sets it: tests/cuda/CMakeLists.txt)");
  Backend& b = backend_for(Device::CUDA);
  struct C {
    Shape x;
    std::int64_t k;
    int r;
    Conv2dArgs a;
  };
  // DenseNet-like shapes whose long reductions (backward-filter over N·P·Q, backward-data over
  // K·R·S) are where cuDNN's fastest algorithms split the sum across blocks.
  const C geoms[] = {
      {{16, 64, 28, 28}, 64, 3, {1, 1, 1, 1, 1, 1, 1}},
      {{16, 256, 14, 14}, 128, 1, {1, 1, 0, 0, 1, 1, 1}},
      {{8, 32, 30, 30}, 48, 3, {2, 2, 1, 1, 1, 1, 2}},
      {{4, 16, 20, 20}, 16, 3, {1, 1, 2, 2, 2, 2, 16}},
  };
  for (DType t : {DType::f32, DType::f64})
    for (const C& g : geoms) {
      const Conv2dArgs a = g.a;
      const std::int64_t p = conv_out(g.x[2], g.r, a.stride_h, a.pad_h, a.dilation_h);
      const std::int64_t q = conv_out(g.x[3], g.r, a.stride_w, a.pad_w, a.dilation_w);
      const Shape ws{g.k, g.x[1] / a.groups, g.r, g.r}, ys{g.x[0], g.k, p, q};
      const Tensor x = gpu_random(g.x, t, 1), w = gpu_random(ws, t, 2), bias = gpu_random({g.k}, t, 3);
      const Tensor gy = gpu_random(ys, t, 4);
      const std::string name = "conv2d x" + g.x.str() + " w" + ws.str() + " groups " + std::to_string(a.groups) +
                               " " + std::string(dtype_name(t));
      check_repeats(name + " forward", [&] {
        Tensor y = Tensor::empty(ys, t, Device::CUDA);
        b.conv2d_forward(a, x, w, &bias, y);
        return Outputs{y};
      });
      check_repeats(name + " backward-data", [&] {
        Tensor gx = Tensor::empty(g.x, t, Device::CUDA);
        b.conv2d_backward_data(a, gy, w, gx);
        return Outputs{gx};
      });
      check_repeats(name + " backward-filter", [&] {
        Tensor gw = Tensor::empty(ws, t, Device::CUDA), gb = Tensor::empty({g.k}, t, Device::CUDA);
        b.conv2d_backward_filter(a, x, gy, gw, &gb);
        return Outputs{gw, gb};
      });
    }
}

TEST_CASE("max-pool and average-pool backward and scatter-add repeat bit for bit") {
  Backend& b = backend_for(Device::CUDA);
  for (DType t : {DType::f32, DType::f64}) {
    // Overlapping 3x3 windows with stride 2 over a coarse grid of values: many windows share an
    // argmax, so several gradients meet in one input element.
    Tensor grid = random_cpu({8, 16, 57, 57}, DType::f64, 5, -3.0, 3.0);
    double* pg = grid.data<double>();
    for (std::int64_t i = 0; i < grid.numel(); ++i) pg[i] = static_cast<double>(static_cast<int>(pg[i]));
    const Tensor x = grid.to(t).to(Device::CUDA);
    const Pool2dArgs a{3, 3, 2, 2, 1, 1, true, true};
    const Shape ys{8, 16, 29, 29};
    const Tensor gy = gpu_random(ys, t, 6);
    Tensor y = Tensor::empty(ys, t, Device::CUDA), idx = Tensor::empty(ys, DType::i64, Device::CUDA);
    b.max_pool2d_forward(a, x, y, idx);
    const std::string dt(dtype_name(t));
    check_repeats("max_pool2d backward " + dt, [&] {
      Tensor gx = Tensor::empty(x.shape(), t, Device::CUDA);
      b.max_pool2d_backward(a, gy, idx, gx);
      return Outputs{gx};
    });
    check_repeats("avg_pool2d backward " + dt, [&] {
      Tensor gx = Tensor::empty(x.shape(), t, Device::CUDA);
      b.avg_pool2d_backward(a, gy, gx);
      return Outputs{gx};
    });
    const AxisView v{4, 64, 3000};
    const Tensor g = gpu_random({v.outer, v.inner}, t, 7);
    const Tensor ix = random_cpu({v.outer, v.inner}, DType::f64, 8, 0.0, 4.0).to(DType::i64).to(Device::CUDA);
    check_repeats("scatter_add_axis " + dt, [&] {
      Tensor out = Tensor::full({v.outer, v.n, v.inner}, 0.5, t, Device::CUDA);
      b.scatter_add_axis(g, ix, v, out);
      return Outputs{out};
    });
  }
}
