// Device identity and the backend registry, as a CPU-only machine sees them.
#include <doctest/doctest.h>

#include "core/backend.h"
#include "core/error.h"
#include "core/tensor.h"

using namespace gler;

TEST_CASE("devices parse and print as kind:index") {
  CHECK(parse_device("cpu") == Device::CPU);
  CHECK(parse_device("cuda") == Device::cuda(0));
  CHECK(parse_device("cuda:3") == Device::cuda(3));
  CHECK(parse_device("cuda:3").is_cuda());
  CHECK(device_name(Device::cuda(1)) == "cuda:1");
  CHECK(device_name(Device::CPU) == "cpu");
  CHECK(Device::cuda(0) != Device::cuda(1));
  for (const char* bad : {"gpu", "cuda:", "cuda:-1", "cuda:1x", "cuda:+1", "CPU", "cpu:0 ", ""})
    CHECK_THROWS_WITH_AS(parse_device(bad), doctest::Contains("expected cpu, cuda or cuda:N"), Error);
}

TEST_CASE("a storage belongs to the backend that allocated it") {
  const Tensor t = Tensor::zeros({2, 3});
  CHECK(&t.backend() == &backend_for(Device::CPU));
  CHECK(&t.impl().storage->backend() == &backend_for(Device::CPU));
  CHECK(t.device() == Device::CPU);
  CHECK(device_count(DeviceKind::CPU) == 1);
}

TEST_CASE("devices this machine lacks are refused with a reason") {
  CHECK_THROWS_WITH_AS(check_device_usable(Device{DeviceKind::CPU, 1}), doctest::Contains("one CPU device"), Error);
  if (cuda_available()) return;  // the rest describes a machine without a usable GPU
  CHECK_THROWS_AS(check_device_usable(Device::CUDA), Error);
  CHECK_THROWS_AS(Tensor::zeros({2}, DType::f32, Device::CUDA), Error);
  CHECK_THROWS_AS(backend_for(Device::cuda(1)), Error);
}

TEST_CASE("a CPU kernel accessor refuses memory of another device before touching it") {
  const Tensor t = Tensor::zeros({2});
  CHECK(t.host_data<float>() == t.data<float>());
  CHECK_THROWS_WITH_AS(t.host_data<double>(), doctest::Contains("asked for f64"), Error);
}
