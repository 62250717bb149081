#include "core/ops.h"

#include <numeric>

#include "core/autograd.h"

namespace gler::ops {

namespace {

Tensor empty_like(const Tensor& x) { return Tensor::empty(x.shape(), x.dtype(), x.device()); }

void check_float(const Tensor& x, const char* op) {
  GLER_CHECK(is_floating(x.dtype()), op << " needs a floating tensor, got " << describe(x));
}

AxisView axis_view(const Shape& s, int axis) {
  return {s.prod(0, axis), s[axis], s.prod(axis + 1, s.size())};
}

Shape drop_axis(const Shape& s, int axis, bool keepdim) {
  std::vector<std::int64_t> d = s.to_vector();
  if (keepdim)
    d[static_cast<std::size_t>(axis)] = 1;
  else
    d.erase(d.begin() + axis);
  return Shape(d);
}

bool is_suffix(const Shape& small, const Shape& big) {
  if (small.size() > big.size()) return false;
  for (int i = 1; i <= small.size(); ++i)
    if (small[small.size() - i] != big[big.size() - i]) return false;
  return true;
}

// Reduces a broadcast gradient back to the operand's shape.
Tensor unbroadcast(const Tensor& g, const Tensor& operand) {
  if (g.shape() == operand.shape()) return g;
  Tensor out = Tensor::empty(operand.shape(), g.dtype(), g.device());
  g.backend().sum_to_suffix(g, out);
  return out;
}

Tensor binary_kernel(BinaryOp op, const Tensor& a, const Tensor& b) {
  check_same_dtype(a, b, "elementwise op");
  check_same_device(a, b, "elementwise op");
  const Tensor& big = a.numel() >= b.numel() ? a : b;
  const Tensor& small = a.numel() >= b.numel() ? b : a;
  GLER_CHECK(small.numel() == 1 || is_suffix(small.shape(), big.shape()),
             "cannot broadcast " << a.shape().str() << " with " << b.shape().str()
                                 << " (the smaller shape must be a suffix of the larger)");
  Tensor out = empty_like(big);
  a.backend().binary(op, a, b, out);
  return out;
}

Tensor unary_kernel(UnaryOp op, const Tensor& x, double alpha) {
  check_float(x, "elementwise op");
  Tensor y = empty_like(x);
  x.backend().unary(op, x, alpha, y);
  return y;
}

Tensor unary_op(UnaryOp op, const char* name, const Tensor& x, double alpha = 0.0) {
  Tensor y = unary_kernel(op, x, alpha);
  return record(y, name, {x}, [op, x, y = y.detach(), alpha](const Tensor& g) {
    Tensor gx = empty_like(g);
    g.backend().unary_backward(op, x.detach(), y, g, alpha, gx);
    return std::vector<Tensor>{gx};
  });
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  return record(binary_kernel(BinaryOp::add, a, b), "add", {a, b}, [a, b](const Tensor& g) {
    return std::vector<Tensor>{unbroadcast(g, a), unbroadcast(g, b)};
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  return record(binary_kernel(BinaryOp::sub, a, b), "sub", {a, b}, [a, b](const Tensor& g) {
    Tensor gb = empty_like(g);
    g.backend().unary(UnaryOp::neg, g, 0.0, gb);
    return std::vector<Tensor>{unbroadcast(g, a), unbroadcast(gb, b)};
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  return record(binary_kernel(BinaryOp::mul, a, b), "mul", {a, b}, [a = a.detach(), b = b.detach()](const Tensor& g) {
    return std::vector<Tensor>{unbroadcast(binary_kernel(BinaryOp::mul, g, b), a),
                               unbroadcast(binary_kernel(BinaryOp::mul, g, a), b)};
  });
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor y = binary_kernel(BinaryOp::div, a, b);
  return record(y, "div", {a, b}, [a = a.detach(), b = b.detach(), y = y.detach()](const Tensor& g) {
    Tensor ga = binary_kernel(BinaryOp::div, g, b);
    // d(a/b)/db = -y/b
    Tensor gb = binary_kernel(BinaryOp::mul, ga, y);
    g.backend().unary(UnaryOp::neg, gb, 0.0, gb);
    return std::vector<Tensor>{unbroadcast(ga, a), unbroadcast(gb, b)};
  });
}

Tensor neg(const Tensor& x) { return unary_op(UnaryOp::neg, "neg", x); }
Tensor exp(const Tensor& x) { return unary_op(UnaryOp::exp, "exp", x); }
Tensor log(const Tensor& x) { return unary_op(UnaryOp::log, "log", x); }
Tensor sqrt(const Tensor& x) { return unary_op(UnaryOp::sqrt, "sqrt", x); }
Tensor abs(const Tensor& x) { return unary_op(UnaryOp::abs, "abs", x); }
Tensor relu(const Tensor& x) { return unary_op(UnaryOp::relu, "relu", x); }
Tensor sigmoid(const Tensor& x) { return unary_op(UnaryOp::sigmoid, "sigmoid", x); }
Tensor tanh(const Tensor& x) { return unary_op(UnaryOp::tanh, "tanh", x); }
Tensor scale(const Tensor& x, double alpha) { return unary_op(UnaryOp::scale, "scale", x, alpha); }
Tensor add_scalar(const Tensor& x, double alpha) { return unary_op(UnaryOp::add_scalar, "add_scalar", x, alpha); }
Tensor pow(const Tensor& x, double exponent) { return unary_op(UnaryOp::pow, "pow", x, exponent); }
Tensor clamp_min(const Tensor& x, double lo) { return unary_op(UnaryOp::clamp_min, "clamp_min", x, lo); }
// min(max(x, lo), hi) = -max(-max(x, lo), -hi): exact, with clamp_min's inclusive gradient at each bound.
Tensor clamp(const Tensor& x, double lo, double hi) {
  GLER_CHECK(lo <= hi, "clamp: lower bound " << lo << " above upper bound " << hi);
  return neg(clamp_min(neg(clamp_min(x, lo)), -hi));
}
Tensor leaky_relu(const Tensor& x, double slope) { return unary_op(UnaryOp::leaky_relu, "leaky_relu", x, slope); }
Tensor acos(const Tensor& x) { return unary_kernel(UnaryOp::acos, x.detach(), 0.0); }
Tensor floor(const Tensor& x) { return unary_kernel(UnaryOp::floor, x.detach(), 0.0); }
Tensor sign(const Tensor& x) { return unary_kernel(UnaryOp::sign, x.detach(), 0.0); }

namespace {
Tensor reduce_op(ReduceOp op, const char* name, const Tensor& x, int axis_in, bool keepdim) {
  check_float(x, name);
  const int axis = x.shape().axis(axis_in);
  const AxisView v = axis_view(x.shape(), axis);
  GLER_CHECK(op != ReduceOp::max || v.n > 0, "max over an empty axis of shape " << x.shape().str());
  Tensor out = Tensor::empty(drop_axis(x.shape(), axis, keepdim), x.dtype(), x.device());
  Tensor idx;
  if (op == ReduceOp::max) idx = Tensor::empty(out.shape(), DType::i64, x.device());
  x.backend().reduce(op, x, v, out, op == ReduceOp::max ? &idx : nullptr);
  return record(out, name, {x}, [op, v, idx, xs = x.shape()](const Tensor& g) {
    Tensor gx = Tensor::empty(xs, g.dtype(), g.device());
    if (op == ReduceOp::max) {
      gx.fill_(0.0);
      g.backend().scatter_add_axis(g, idx, v, gx);
    } else {
      g.backend().broadcast_axis(g, v, op == ReduceOp::mean ? 1.0 / static_cast<double>(v.n) : 1.0, gx);
    }
    return std::vector<Tensor>{gx};
  });
}
}  // namespace

Tensor sum(const Tensor& x, int axis, bool keepdim) { return reduce_op(ReduceOp::sum, "sum", x, axis, keepdim); }
Tensor mean(const Tensor& x, int axis, bool keepdim) { return reduce_op(ReduceOp::mean, "mean", x, axis, keepdim); }
Tensor max(const Tensor& x, int axis, bool keepdim) { return reduce_op(ReduceOp::max, "max", x, axis, keepdim); }

Tensor argmax(const Tensor& x, int axis_in) {
  check_float(x, "argmax");
  const int axis = x.shape().axis(axis_in);
  const AxisView v = axis_view(x.shape(), axis);
  GLER_CHECK(v.n > 0, "argmax over an empty axis of shape " << x.shape().str());
  Tensor out = Tensor::empty(drop_axis(x.shape(), axis, false), x.dtype(), x.device());
  Tensor idx = Tensor::empty(out.shape(), DType::i64, x.device());
  x.backend().reduce(ReduceOp::max, x.detach(), v, out, &idx);
  return idx;
}

Tensor sum_all(const Tensor& x) { return sum(x.reshape({x.numel()}), 0); }
Tensor mean_all(const Tensor& x) { return mean(x.reshape({x.numel()}), 0); }

Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  check_float(a, "matmul");
  check_same_dtype(a, b, "matmul");
  check_same_device(a, b, "matmul");
  GLER_CHECK((a.ndim() == 2 || a.ndim() == 3) && (b.ndim() == 2 || b.ndim() == 3) && b.ndim() <= a.ndim(),
             "matmul needs [M,K]·[K,N] or [B,M,K]·[B,K,N]/[K,N], got " << a.shape().str() << " · " << b.shape().str());
  const bool batched = a.ndim() == 3;
  const std::int64_t batch = batched ? a.shape()[0] : 1;
  const int ra = a.ndim() - 2, rb = b.ndim() - 2;
  const std::int64_t m = trans_a ? a.shape()[ra + 1] : a.shape()[ra];
  const std::int64_t k = trans_a ? a.shape()[ra] : a.shape()[ra + 1];
  const std::int64_t kb = trans_b ? b.shape()[rb + 1] : b.shape()[rb];
  const std::int64_t n = trans_b ? b.shape()[rb] : b.shape()[rb + 1];
  GLER_CHECK(k == kb, "matmul inner dimensions differ: " << a.shape().str() << (trans_a ? "ᵀ" : "") << " · "
                                                         << b.shape().str() << (trans_b ? "ᵀ" : ""));
  GLER_CHECK(b.ndim() == 2 || b.shape()[0] == batch,
             "matmul batch sizes differ: " << a.shape().str() << " · " << b.shape().str());
  Tensor c = batched ? Tensor::empty({batch, m, n}, a.dtype(), a.device()) : Tensor::empty({m, n}, a.dtype(), a.device());
  GemmArgs args;
  args.trans_a = trans_a;
  args.trans_b = trans_b;
  args.m = m;
  args.n = n;
  args.k = k;
  args.batch = batch;
  args.stride_a = m * k;
  args.stride_b = b.ndim() == 3 ? k * n : 0;
  args.stride_c = m * n;
  a.backend().gemm(args, a, b, c);
  return record(c, "matmul", {a, b}, [a = a.detach(), b = b.detach(), trans_a, trans_b](const Tensor& g) {
    // C = op(A)·op(B): dA = g·op(B)ᵀ (transposed back if A was), dB = op(A)ᵀ·g likewise.
    Tensor ga, gb;
    NoGradGuard no_grad;
    if (!trans_a)
      ga = matmul(g, b, false, !trans_b);
    else if (a.ndim() == 3 && b.ndim() == 2)
      ga = transpose(matmul(g, b, false, !trans_b), 1, 2);
    else
      ga = matmul(b, g, trans_b, true);
    if (b.ndim() == 3) {
      gb = !trans_b ? matmul(a, g, !trans_a, false) : matmul(g, a, true, trans_a);
    } else {
      // b shared across the batch: fold the batch into the rows.
      const std::int64_t rows = a.shape()[0] * (trans_a ? a.shape()[2] : a.shape()[1]);
      if (a.ndim() == 3 && !trans_a) {
        Tensor a2 = a.reshape({rows, a.shape()[2]}), g2 = g.reshape({rows, g.shape()[g.ndim() - 1]});
        gb = !trans_b ? matmul(a2, g2, true, false) : matmul(g2, a2, true, false);
      } else if (a.ndim() == 3) {
        Tensor per = !trans_b ? matmul(a, g, false, false) : matmul(g, a, true, true);
        gb = sum(per, 0);
      } else {
        gb = !trans_b ? matmul(a, g, !trans_a, false) : matmul(g, a, true, trans_a);
      }
    }
    return std::vector<Tensor>{ga, gb};
  });
}

namespace {
Tensor softmax_op(const Tensor& x, int axis_in, bool log) {
  check_float(x, "softmax");
  const int axis = x.shape().axis(axis_in);
  const AxisView v = axis_view(x.shape(), axis);
  Tensor y = empty_like(x);
  x.backend().softmax(x, v, log, y);
  return record(y, log ? "log_softmax" : "softmax", {x}, [v, log, y = y.detach()](const Tensor& g) {
    Tensor gx = empty_like(g);
    g.backend().softmax_backward(y, g, v, log, gx);
    return std::vector<Tensor>{gx};
  });
}
}  // namespace

Tensor softmax(const Tensor& x, int axis) { return softmax_op(x, axis, false); }
Tensor log_softmax(const Tensor& x, int axis) { return softmax_op(x, axis, true); }

Tensor concat(const std::vector<Tensor>& parts, int axis_in) {
  GLER_CHECK(!parts.empty(), "concat of no tensors");
  const Tensor& first = parts[0];
  const int axis = first.shape().axis(axis_in);
  Shape out_shape = first.shape();
  std::int64_t total = 0;
  for (const auto& p : parts) {
    check_same_dtype(first, p, "concat");
    check_same_device(first, p, "concat");
    GLER_CHECK(p.ndim() == first.ndim(), "concat: rank mismatch " << first.shape().str() << " vs " << p.shape().str());
    for (int d = 0; d < first.ndim(); ++d)
      GLER_CHECK(d == axis || p.shape()[d] == first.shape()[d],
                 "concat along axis " << axis << ": shape mismatch " << first.shape().str() << " vs " << p.shape().str());
    total += p.shape()[axis];
  }
  out_shape[axis] = total;
  Tensor out = Tensor::empty(out_shape, first.dtype(), first.device());
  const std::int64_t rows = out_shape.prod(0, axis), inner = out_shape.prod(axis + 1, out_shape.size());
  std::vector<std::int64_t> sizes;
  std::int64_t offset = 0;
  for (const auto& p : parts) {
    const std::int64_t len = p.shape()[axis] * inner;
    first.backend().copy_rows(p, len, 0, out, total * inner, offset, rows, len, false);
    offset += len;
    sizes.push_back(p.shape()[axis]);
  }
  return record(out, "concat", parts, [sizes, axis](const Tensor& g) { return split(g, sizes, axis); });
}

std::vector<Tensor> split(const Tensor& x, const std::vector<std::int64_t>& sizes, int axis_in) {
  const int axis = x.shape().axis(axis_in);
  std::vector<Tensor> out;
  std::int64_t begin = 0;
  for (std::int64_t s : sizes) {
    out.push_back(narrow(x, axis, begin, begin + s));
    begin += s;
  }
  GLER_CHECK(begin == x.shape()[axis], "split sizes sum to " << begin << " but axis " << axis << " of "
                                                              << x.shape().str() << " has " << x.shape()[axis]);
  return out;
}

Tensor narrow(const Tensor& x, int axis_in, std::int64_t begin, std::int64_t end) {
  const int axis = x.shape().axis(axis_in);
  GLER_CHECK(begin >= 0 && begin <= end && end <= x.shape()[axis],
             "range [" << begin << ", " << end << ") out of bounds for axis " << axis << " of " << x.shape().str());
  Shape s = x.shape();
  s[axis] = end - begin;
  const std::int64_t rows = s.prod(0, axis), inner = s.prod(axis + 1, s.size());
  const std::int64_t full = x.shape()[axis] * inner, len = (end - begin) * inner;
  Tensor out = Tensor::empty(s, x.dtype(), x.device());
  x.backend().copy_rows(x, full, begin * inner, out, len, 0, rows, len, false);
  return record(out, "narrow", {x}, [xs = x.shape(), rows, full, len, begin, inner](const Tensor& g) {
    Tensor gx = Tensor::zeros(xs, g.dtype(), g.device());
    g.backend().copy_rows(g, len, 0, gx, full, begin * inner, rows, len, false);
    return std::vector<Tensor>{gx};
  });
}

Tensor gather(const Tensor& x, const Tensor& idx, int axis_in) {
  check_float(x, "gather");
  GLER_CHECK(idx.dtype() == DType::i64, "gather indices must be i64, got " << describe(idx));
  check_same_device(x, idx, "gather");
  const int axis = x.shape().axis(axis_in);
  GLER_CHECK(idx.shape() == drop_axis(x.shape(), axis, false),
             "gather along axis " << axis << " of " << x.shape().str() << " needs indices of shape "
                                  << drop_axis(x.shape(), axis, false).str() << ", got " << idx.shape().str());
  const AxisView v = axis_view(x.shape(), axis);
  Tensor out = Tensor::empty(idx.shape(), x.dtype(), x.device());
  x.backend().gather_axis(x, idx, v, out);
  return record(out, "gather", {x}, [v, idx, xs = x.shape()](const Tensor& g) {
    Tensor gx = Tensor::zeros(xs, g.dtype(), g.device());
    g.backend().scatter_add_axis(g, idx, v, gx);
    return std::vector<Tensor>{gx};
  });
}

Tensor scatter(const Tensor& x, const Tensor& idx, const Tensor& values, int axis_in) {
  check_float(x, "scatter");
  check_same_dtype(x, values, "scatter");
  check_same_device(x, values, "scatter");
  check_same_device(x, idx, "scatter");
  GLER_CHECK(idx.dtype() == DType::i64, "scatter indices must be i64, got " << describe(idx));
  const int axis = x.shape().axis(axis_in);
  const Shape picked = drop_axis(x.shape(), axis, false);
  GLER_CHECK(idx.shape() == picked && values.shape() == picked,
             "scatter along axis " << axis << " of " << x.shape().str() << " needs indices and values of shape "
                                   << picked.str() << ", got " << idx.shape().str() << " and " << values.shape().str());
  const AxisView v = axis_view(x.shape(), axis);
  // out = x * keep + placed, keep being 0 at the indexed entries and 1 elsewhere: exact, where
  // x + scatter_add(values - gather(x)) would round. Each (outer, inner) pair has one index, so
  // no entry is hit twice.
  Tensor keep = Tensor::full(x.shape(), 1.0, x.dtype(), x.device());
  x.backend().scatter_add_axis(Tensor::full(picked, -1.0, x.dtype(), x.device()), idx, v, keep);
  Tensor placed = Tensor::zeros(x.shape(), x.dtype(), x.device());
  x.backend().scatter_add_axis(values, idx, v, placed);
  Tensor out = empty_like(x);
  x.backend().binary(BinaryOp::mul, x, keep, out);
  x.backend().binary(BinaryOp::add, out, placed, out);
  return record(out, "scatter", {x, values}, [v, idx, keep](const Tensor& g) {
    Tensor gx = empty_like(g), gv = Tensor::empty(idx.shape(), g.dtype(), g.device());
    g.backend().binary(BinaryOp::mul, g, keep, gx);
    g.backend().gather_axis(g, idx, v, gv);
    return std::vector<Tensor>{gx, gv};
  });
}

Tensor expand(const Tensor& x, int axis, std::int64_t n) {
  check_float(x, "expand");
  GLER_CHECK(axis >= 0 && axis <= x.ndim() && x.ndim() < Shape::kMaxDims && n >= 0,
             "expand: cannot insert an axis of size " << n << " at " << axis << " into " << x.shape().str());
  std::vector<std::int64_t> d = x.shape().to_vector();
  d.insert(d.begin() + axis, n);
  const AxisView v{x.shape().prod(0, axis), n, x.shape().prod(axis, x.ndim())};
  Tensor out = Tensor::empty(Shape(d), x.dtype(), x.device());
  x.backend().broadcast_axis(x, v, 1.0, out);
  return record(out, "expand", {x}, [v, xs = x.shape()](const Tensor& g) {
    Tensor gx = Tensor::empty(xs, g.dtype(), g.device());
    g.backend().reduce(ReduceOp::sum, g, v, gx, nullptr);
    return std::vector<Tensor>{gx};
  });
}

Tensor permute(const Tensor& x, const std::vector<int>& perm) {
  GLER_CHECK(static_cast<int>(perm.size()) == x.ndim(), "permute of " << x.shape().str() << " needs " << x.ndim() << " axes");
  std::vector<int> seen(perm.size(), 0), inverse(perm.size());
  Shape s = x.shape();
  for (std::size_t i = 0; i < perm.size(); ++i) {
    const int p = perm[i];
    GLER_CHECK(p >= 0 && p < x.ndim() && !seen[static_cast<std::size_t>(p)], "permute: invalid axis order for " << x.shape().str());
    seen[static_cast<std::size_t>(p)] = 1;
    inverse[static_cast<std::size_t>(p)] = static_cast<int>(i);
    s[static_cast<int>(i)] = x.shape()[p];
  }
  Tensor y = Tensor::empty(s, x.dtype(), x.device());
  x.backend().permute(x, perm.data(), y);
  return record(y, "permute", {x}, [inverse](const Tensor& g) { return std::vector<Tensor>{permute(g, inverse)}; });
}

Tensor transpose(const Tensor& x, int a, int b) {
  std::vector<int> perm(static_cast<std::size_t>(x.ndim()));
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[static_cast<std::size_t>(x.shape().axis(a))], perm[static_cast<std::size_t>(x.shape().axis(b))]);
  return permute(x, perm);
}

}  // namespace gler::ops
