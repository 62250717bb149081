#include "train/optim/inplace.h"

#include "core/backend.h"

namespace gler::train::inplace {

namespace {

void check(const Tensor& out, const Tensor& x, const char* op, bool scalar_ok) {
  check_operand(x, op, "operand", out.device(), out.dtype());
  GLER_CHECK(x.numel() == out.numel() || (scalar_ok && x.numel() == 1),
             op << ": operand " << describe(x) << " does not match the target " << describe(out));
}

void unary(UnaryOp op, const char* name, const Tensor& out, const Tensor& x, double alpha) {
  check(out, x, name, false);
  Tensor target = out;
  out.backend().unary(op, x, alpha, target);
  out.bump_version();
}

void binary(BinaryOp op, const char* name, const Tensor& out, const Tensor& a, const Tensor& b) {
  check(out, a, name, false);
  check(out, b, name, true);
  Tensor target = out;
  out.backend().binary(op, a, b, target);
  out.bump_version();
}

}  // namespace

void scale(const Tensor& out, const Tensor& x, double alpha) { unary(UnaryOp::scale, "scale", out, x, alpha); }
void add_scalar(const Tensor& out, const Tensor& x, double alpha) {
  unary(UnaryOp::add_scalar, "add_scalar", out, x, alpha);
}
void sqrt(const Tensor& out, const Tensor& x) { unary(UnaryOp::sqrt, "sqrt", out, x, 0.0); }
void add(const Tensor& out, const Tensor& a, const Tensor& b) { binary(BinaryOp::add, "add", out, a, b); }
void div(const Tensor& out, const Tensor& a, const Tensor& b) { binary(BinaryOp::div, "div", out, a, b); }
void maximum(const Tensor& out, const Tensor& a, const Tensor& b) { binary(BinaryOp::maximum, "maximum", out, a, b); }
void add_scaled(const Tensor& out, const Tensor& c, const Tensor& a, double alpha) {
  check(out, c, "add_scaled", false);
  check(out, a, "add_scaled", false);
  Tensor target = out;
  out.backend().fused_multiply_add(a, nullptr, alpha, c, target);
  out.bump_version();
}

void multiply_add(const Tensor& out, const Tensor& c, const Tensor& a, const Tensor& b) {
  check(out, c, "multiply_add", false);
  check(out, a, "multiply_add", false);
  check(out, b, "multiply_add", false);
  Tensor target = out;
  out.backend().fused_multiply_add(a, &b, 0.0, c, target);
  out.bump_version();
}

void copy(const Tensor& out, const Tensor& x) {
  check(out, x, "copy", false);
  out.copy_(x);
}

}  // namespace gler::train::inplace
