// The CUDA backend's memory: transfers through the pinned staging buffers (several chunks, odd
// sizes), device-to-device copies, the caching allocator's peak counter, and errors raised by
// kernels (an out-of-range gather index). Short: the compute-sanitizer run in gpu_check.sh uses it.
#include <doctest/doctest.h>

#include <cstring>
#include <numeric>
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

TEST_CASE("kernel-side errors become gler::Error") {
  const Tensor x = Tensor::zeros({2, 3}, DType::f32, Device::CUDA);
  const Tensor bad = Tensor::from_vector<std::int64_t>({0, 3}, {2}).to(Device::CUDA);
  CHECK_THROWS_WITH_AS(ops::gather(x, bad, 1), doctest::Contains("out of range"), Error);
  // The backend is still usable afterwards.
  CHECK(ops::sum_all(ops::add_scalar(x, 1.0)).item() == 6.0);
}

TEST_CASE("mixed-device operands are rejected") {
  const Tensor c = Tensor::zeros({3}), g = Tensor::zeros({3}, DType::f32, Device::CUDA);
  CHECK_THROWS_AS(ops::add(c, g), Error);
}
