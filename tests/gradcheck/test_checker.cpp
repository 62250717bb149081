// The checker itself must bite: a backward that is off by 1% or by a transposition fails it.
#include <doctest/doctest.h>

#include "core/autograd.h"
#include "core/ops.h"
#include "tests/gradcheck/gradcheck.h"

using namespace gler;

namespace {
// y = x² with a deliberately wrong backward: 2x * factor.
Tensor square_with_wrong_backward(const Tensor& x, double factor) {
  Tensor y = [&] {
    NoGradGuard ng;
    return ops::mul(x, x);
  }();
  return record(y, "wrong_square", {x}, [x = x.detach(), factor](const Tensor& g) {
    NoGradGuard ng;
    return std::vector<Tensor>{ops::mul(g, ops::scale(x, 2.0 * factor))};
  });
}
}  // namespace

TEST_CASE("gradcheck accepts a correct backward") {
  auto r = gradcheck::check([](const std::vector<Tensor>& in) { return square_with_wrong_backward(in[0], 1.0); },
                            {gradcheck::random_input({4, 3}, 7)});
  CHECK(r.ok);
  CHECK(r.checked == 12);
  CHECK(r.max_abs_error < 1e-8);
}

TEST_CASE("gradcheck rejects a backward that is 1% off") {
  auto r = gradcheck::check([](const std::vector<Tensor>& in) { return square_with_wrong_backward(in[0], 1.01); },
                            {gradcheck::random_input({4, 3}, 7)});
  CHECK_FALSE(r.ok);
  CHECK(r.worst.find("analytic") != std::string::npos);
}

TEST_CASE("gradcheck rejects a missing gradient path") {
  // Gradient only through the first operand, although the output depends on both.
  auto f = [](const std::vector<Tensor>& in) { return ops::add(in[0], in[1].detach()); };
  auto a = gradcheck::random_input({3}, 1), b = gradcheck::random_input({3}, 2);
  auto r = gradcheck::check(f, {a, b});
  CHECK_FALSE(r.ok);
}
