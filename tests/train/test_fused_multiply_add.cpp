// Backend::fused_multiply_add on the CPU: one rounding (std::fma's result, where a multiply then an
// add would differ), with a tensor or a scalar multiplier, in place, on both sides of the
// multi-threading threshold; and its operand checks.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "core/backend.h"
#include "core/init.h"
#include "tests/support/tensors.h"

using namespace gler;

namespace {

template <class T>
void check_exact(std::int64_t n) {
  const DType dt = dtype_of<T>;
  Generator gen(static_cast<std::uint64_t>(n));
  // Drawn in T: f32 values widened to f64 would multiply exactly, fused or not.
  auto draw = [&] {
    Tensor t = Tensor::empty({n}, dt);
    uniform_(t, -1, 1, gen);
    return t;
  };
  const Tensor a = draw(), b = draw(), c = draw();
  const auto va = a.to_vector<T>(), vb = b.to_vector<T>(), vc = c.to_vector<T>();
  const T alpha = static_cast<T>(-0.1);

  Tensor out = Tensor::empty({n}, dt);
  backend_for(Device::CPU).fused_multiply_add(a, &b, 0.0, c, out);
  const auto tensor_b = out.to_vector<T>();
  Tensor in_place = c.clone();  // out aliasing c: c = c + a * alpha
  backend_for(Device::CPU).fused_multiply_add(a, nullptr, -0.1, in_place, in_place);
  const auto scalar_b = in_place.to_vector<T>();
  std::int64_t fused_differs = 0;
  for (std::size_t i = 0; i < va.size(); ++i) {
    CHECK(tensor_b[i] == std::fma(va[i], vb[i], vc[i]));
    CHECK(scalar_b[i] == std::fma(va[i], alpha, vc[i]));
    fused_differs += std::fma(va[i], vb[i], vc[i]) != static_cast<T>(va[i] * vb[i]) + vc[i];
  }
  if (n > 100) CHECK(fused_differs > 0);  // the test would not tell a fused result from an unfused one
}

}  // namespace

TEST_CASE("fused_multiply_add rounds once, with a tensor or a scalar multiplier, in place") {
  for (std::int64_t n : {1, 7, 1000, 40000}) {
    CAPTURE(n);
    check_exact<float>(n);
    check_exact<double>(n);
  }
}

TEST_CASE("fused_multiply_add checks its operands") {
  Backend& cpu = backend_for(Device::CPU);
  Tensor x = Tensor::zeros({4}), out = Tensor::zeros({4});
  const Tensor f64 = Tensor::zeros({4}, DType::f64), short_one = Tensor::zeros({3}),
               ints = Tensor::zeros({4}, DType::i64);
  test::expect_error_naming("dtype", {"fused_multiply_add", "a", "f64"},
                            [&] { cpu.fused_multiply_add(f64, nullptr, 1, x, out); });
  test::expect_error_naming("b dtype", {"fused_multiply_add", "b", "f64"},
                            [&] { cpu.fused_multiply_add(x, &f64, 1, x, out); });
  test::expect_error_naming("size", {"fused_multiply_add", "f32[3]"},
                            [&] { cpu.fused_multiply_add(short_one, nullptr, 1, x, out); });
  test::expect_error_naming("integer out", {"fused_multiply_add", "i64"}, [&] {
    Tensor o = ints;
    cpu.fused_multiply_add(x, nullptr, 1, x, o);
  });
  test::expect_error_naming("undefined", {"fused_multiply_add", "undefined"},
                            [&] { cpu.fused_multiply_add(Tensor(), nullptr, 1, x, out); });
}
