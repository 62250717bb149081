// The CUDA backend's memory: transfers through the pinned staging buffers (several chunks, odd
// sizes), device-to-device copies, the caching allocator's peak counter, and errors raised by
// kernels (out-of-range indices and face counts, deferred to the next synchronisation). Short:
// the compute-sanitizer run in gpu_check.sh uses it.
#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/ops.h"
#include "core/tensor.h"
#include "cuda/cuda_backend.h"
#include "tests/cuda/parity.h"

using namespace gler;

TEST_CASE("a GPU is visible") {
  CHECK(cuda::device_count() > 0);
  CHECK(cuda_available());
  CHECK(backend_for(Device::CUDA).device() == Device::CUDA);
}

TEST_CASE("host <-> device round trips are exact for every size, including multi-chunk ones") {
  // 4 MiB is the staging chunk: below, at, just above, and several chunks.
  for (std::int64_t n : {std::int64_t{1}, std::int64_t{1000}, std::int64_t{1} << 20, (std::int64_t{1} << 20) + 1,
                         std::int64_t{5} << 20}) {
    std::vector<std::int64_t> v(static_cast<std::size_t>(n));
    std::iota(v.begin(), v.end(), std::int64_t{-17});
    const Tensor h = Tensor::from_vector(v, {n});
    const Tensor d = h.to(Device::CUDA);
    CHECK(d.device() == Device::CUDA);
    const Tensor d2 = d.clone();  // device-to-device
    CHECK(d2.to_vector<std::int64_t>() == v);
  }
  const Tensor empty = Tensor::empty({0}, DType::f32, Device::CUDA);
  CHECK(empty.to(Device::CPU).numel() == 0);
}

TEST_CASE("the peak counter follows the tensors, and freed memory is reused") {
  Backend& b = backend_for(Device::CUDA);
  b.synchronize();
  b.reset_peak_bytes();
  const std::size_t before = b.peak_bytes();
  const void* first = nullptr;
  {
    Tensor t = Tensor::empty({1 << 20}, DType::f32, Device::CUDA);
    first = t.raw();
    CHECK(b.peak_bytes() >= before + (std::size_t{4} << 20));
  }
  Tensor again = Tensor::empty({1 << 20}, DType::f32, Device::CUDA);
  CHECK(again.raw() == first);  // same bucket, handed out from the free list
  b.reset_peak_bytes();
  CHECK(b.peak_bytes() >= std::size_t{4} << 20);
}

// Release builds raise a kernel's error where the backend next waits for its stream; debug builds
// and GLER_CHECK_INDICES=1 at the op itself. Either way it is raised by the next synchronize().
TEST_CASE("kernel-side errors become gler::Error by the next synchronisation, naming the op") {
  Backend& b = backend_for(Device::CUDA);
  const Tensor x = Tensor::zeros({2, 3}, DType::f32, Device::CUDA);
  const Tensor bad = Tensor::from_vector<std::int64_t>({0, 3}, {2}).to(Device::CUDA);
  b.synchronize();
  const auto gather_then_sync = [&] {
    const Tensor y = ops::gather(x, bad, 1);
    b.synchronize();
  };
  CHECK_THROWS_WITH_AS(gather_then_sync(), doctest::Contains("gather: an index"), Error);
  // Raised once: the flag is cleared and the backend is usable afterwards.
  CHECK_NOTHROW(b.synchronize());
  CHECK(ops::sum_all(ops::add_scalar(x, 1.0)).item() == 6.0);

  // scatter_add, found by a copy to the host (which waits for the stream too).
  const auto scatter_then_read = [&] {
    Tensor out = Tensor::zeros({2, 3}, DType::f32, Device::CUDA);
    b.scatter_add_axis(Tensor::full({2}, 1.0, DType::f32, Device::CUDA), bad, AxisView{2, 3, 1}, out);
    return out.to_vector<float>();
  };
  CHECK_THROWS_WITH_AS(scatter_then_read(), doctest::Contains("scatter_add: an index"), Error);

  // A face count outside [0, F]: the kernel clamps it and flags it.
  const auto masked_softmax_then_sync = [&] {
    const Tensor scores = Tensor::zeros({2, 3}, DType::f32, Device::CUDA);
    Tensor w = Tensor::empty({2, 3}, DType::f32, Device::CUDA);
    b.masked_softmax(scores, Tensor::from_vector<std::int64_t>({4, 1}, {2}).to(Device::CUDA), w);
    b.synchronize();
  };
  CHECK_THROWS_WITH_AS(masked_softmax_then_sync(), doctest::Contains("masked_softmax: a face count"), Error);
  CHECK_NOTHROW(b.synchronize());

#ifdef NDEBUG
  if (std::getenv("GLER_CHECK_INDICES") == nullptr) {
    // Deferred: the op returns without waiting for the GPU, and both errors come together.
    CHECK_NOTHROW(ops::gather(x, bad, 1));
    Tensor out = Tensor::zeros({2, 3}, DType::f32, Device::CUDA);
    CHECK_NOTHROW(b.scatter_add_axis(Tensor::full({2}, 1.0, DType::f32, Device::CUDA), bad, AxisView{2, 3, 1}, out));
    std::string what;
    try {
      b.synchronize();
    } catch (const Error& e) {
      what = e.what();
    }
    CHECK_MESSAGE(what.find("gather: an index was out of range") != std::string::npos, what);
    CHECK_MESSAGE(what.find("scatter_add: an index was out of range") != std::string::npos, what);
    CHECK_NOTHROW(b.synchronize());
  }
#endif
}

TEST_CASE("mixed-device operands are rejected") {
  const Tensor c = Tensor::zeros({3}), g = Tensor::zeros({3}, DType::f32, Device::CUDA);
  CHECK_THROWS_AS(ops::add(c, g), Error);
}
