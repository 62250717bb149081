#include "tests/cuda/parity.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "cuda/cuda_backend.h"
#include "tests/support/torch_ref.h"

namespace gler::test {

namespace {
// Runs before doctest's main: without a GPU every test binary is skipped (ctest SKIP_RETURN_CODE 77).
const bool kGpuPresent = [] {
  if (!cuda_available()) {
    std::printf("skipped: no CUDA device (cudaGetDeviceCount reports %d); these tests compare the GPU with the CPU\n",
                cuda::device_count());
    std::exit(77);
  }
  return true;
}();
}  // namespace

double tolerance(DType t) { return t == DType::f32 ? 1e-4 : 1e-10; }

Tensor random_cpu(const Shape& shape, DType dtype, std::uint64_t seed, double lo, double hi) {
  Tensor t = Tensor::empty(shape, dtype, Device::CPU);
  backend_for(Device::CPU).random_uniform(t, seed, 0, lo, hi);
  return t;
}

Tensor on(const Tensor& t, Device device) {
  Tensor out = Tensor::empty(t.shape(), t.dtype(), device);
  out.copy_(t);
  return out;
}

std::string compare(const Tensor& gpu, const Tensor& cpu, bool exact, double rtol) {
  std::ostringstream os;
  if (gpu.shape() != cpu.shape() || gpu.dtype() != cpu.dtype()) {
    os << "got " << describe(gpu) << ", expected " << describe(cpu);
    return os.str();
  }
  const Tensor g = gpu.to(Device::CPU);
  if (exact) {
    if (std::memcmp(g.raw(), cpu.raw(), cpu.nbytes()) == 0) return "";
    const std::size_t es = dtype_size(cpu.dtype());
    for (std::int64_t i = 0; i < cpu.numel(); ++i)
      if (std::memcmp(static_cast<const char*>(g.raw()) + i * es, static_cast<const char*>(cpu.raw()) + i * es, es)) {
        os << "element " << i << ": gpu " << g.to_vector<double>()[i] << ", cpu " << cpu.to_vector<double>()[i]
           << " (bit-exact expected)";
        return os.str();
      }
    return "";
  }
  const double rel = max_rel_diff(g, cpu);
  if (rel <= rtol) return "";
  if (std::isinf(rel)) return "a NaN on one device only, or an infinite difference";
  os << "max relative difference " << rel << " exceeds " << rtol << " (max absolute difference "
     << max_abs_diff(g, cpu) << ")";
  return os.str();
}

}  // namespace gler::test
