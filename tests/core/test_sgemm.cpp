// The f32 GEMM of the CPU backend (core/cpu/sgemm.h): products of 4M multiply-adds and more run on
// oneDNN's sgemm when gler is built with it, smaller ones on OpenBLAS. Both are checked against
// the f64 product (OpenBLAS dgemm, the path f64 always takes) for every transpose combination,
// odd sizes, alpha/beta, batch strides, an output full of NaN with beta 0 and an empty inner
// dimension, and the dense block's 1x1 shape against torch.matmul.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/backend.h"
#include "core/init.h"
#include "core/ops.h"
#include "tests/support/torch_ref.h"

using namespace gler;

namespace {

// c = alpha·op(a)·op(b) + beta·c over `batch` matrices stored one after another, in a's dtype.
void gemm(const Tensor& a, const Tensor& b, Tensor& c, GemmArgs g) {
  g.stride_a = g.m * g.k;
  g.stride_b = g.k * g.n;
  g.stride_c = g.m * g.n;
  c.backend().gemm(g, a, b, c);
}

// f32 rounding of a k-term sum grows like sqrt(k): measured 1.1-2.8e-5 (k = 61..2048) under
// max_rel_diff, whose denominator is floored at 1% of the largest value. An indexing bug is off by
// orders more.
double f32_bound(std::int64_t k) { return 4e-6 * std::sqrt(static_cast<double>(std::max<std::int64_t>(k, 1))); }

}  // namespace

TEST_CASE("f32 GEMM matches the f64 product on both sides of the oneDNN threshold") {
  struct Case {
    std::int64_t m, n, k, batch;
    double alpha, beta;
  };
  const std::vector<Case> cases = {
      {192, 3136, 240, 1, 1.0, 0.0},  // a dense block 1x1 (oneDNN)
      {97, 1001, 61, 2, 0.5, 1.0},    // odd sizes, accumulate, two in a batch (oneDNN)
      {15, 512, 2048, 1, 1.0, 0.0},   // few rows, a long inner dimension (oneDNN)
      {7, 13, 5, 3, 1.0, 0.5},        // small: OpenBLAS
      {1, 1, 1, 1, 2.0, 0.0}};
  Generator gen(21);
  for (const Case& t : cases)
    for (const bool ta : {false, true})
      for (const bool tb : {false, true}) {
        CAPTURE(t.m);
        CAPTURE(t.n);
        CAPTURE(t.k);
        CAPTURE(ta);
        CAPTURE(tb);
        Tensor a = Tensor::empty({t.batch, ta ? t.k : t.m, ta ? t.m : t.k});
        Tensor b = Tensor::empty({t.batch, tb ? t.n : t.k, tb ? t.k : t.n});
        Tensor c = Tensor::empty({t.batch, t.m, t.n});
        uniform_(a, -1, 1, gen);
        uniform_(b, -1, 1, gen);
        uniform_(c, -1, 1, gen);
        Tensor c64 = c.to(DType::f64);
        const GemmArgs g{ta, tb, t.m, t.n, t.k, t.batch, 0, 0, 0, t.alpha, t.beta};
        gemm(a, b, c, g);
        gemm(a.to(DType::f64), b.to(DType::f64), c64, g);
        CHECK(test::max_rel_diff(c, c64.to(DType::f32)) < f32_bound(t.k));
      }
}

TEST_CASE("f32 GEMM with beta 0 overwrites NaN, and an empty inner dimension gives beta·C") {
  Generator gen(22);
  for (const std::int64_t k : {300, 3}) {  // oneDNN, OpenBLAS
    CAPTURE(k);
    Tensor a = Tensor::empty({128, k}), b = Tensor::empty({k, 200});
    uniform_(a, -1, 1, gen);
    uniform_(b, -1, 1, gen);
    Tensor c = Tensor::full({128, 200}, std::numeric_limits<double>::quiet_NaN());
    gemm(a, b, c, GemmArgs{false, false, 128, 200, k});
    Tensor c64 = Tensor::empty({128, 200}, DType::f64);
    gemm(a.to(DType::f64), b.to(DType::f64), c64, GemmArgs{false, false, 128, 200, k});
    CHECK(test::max_rel_diff(c, c64.to(DType::f32)) < f32_bound(k));
  }
  Tensor empty_a = Tensor::empty({4, 0}), empty_b = Tensor::empty({0, 5});
  Tensor c = Tensor::full({4, 5}, std::numeric_limits<double>::quiet_NaN());
  gemm(empty_a, empty_b, c, GemmArgs{false, false, 4, 5, 0});
  CHECK(test::max_abs_diff(c, Tensor::zeros({4, 5})) == 0.0);
  Tensor d = Tensor::full({4, 5}, 3.0);
  gemm(empty_a, empty_b, d, GemmArgs{false, false, 4, 5, 0, 1, 0, 0, 0, 1.0, 0.5});
  CHECK(test::max_abs_diff(d, Tensor::full({4, 5}, 1.5)) == 0.0);
}

TEST_CASE("The dense block's 1x1 product matches torch.matmul") {
  Generator gen(23);
  Tensor w = Tensor::empty({192, 336}), x = Tensor::empty({336, 3136});
  uniform_(w, -0.1, 0.1, gen);
  uniform_(x, 0, 2, gen);
  test::TorchRef ref;
  ref.put("w", w);
  ref.put("x", x);
  ref.run("save('y', load('w') @ load('x'))\nsave('y64', load('w').double() @ load('x').double())");
  // Within 3x PyTorch's own f32 error against the f64 product (as the convolution tests measure).
  const Tensor y = ops::matmul(w, x), y64 = ref.get("y64");
  const double torch_error = test::max_rel_diff(ref.get("y"), y64);
  CAPTURE(torch_error);
  CHECK(test::max_rel_diff(y, y64) <= std::max(1e-5, 3 * torch_error));
}
