// Every kernel of the Backend contract (core/backend.h) run on the CUDA backend and on the CPU on
// the same inputs, f32 and f64. Bit-exact where both devices do the same arithmetic in the same
// order (copies, permute, casts, uniform draws, max and argmax, gather, scatter-add, max pooling
// and its backward); otherwise 1e-4 relative in f32, 1e-10 in f64 (test::compare).
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/tensor.h"
#include "tests/cuda/parity.h"

using namespace gler;
using test::on;
using test::random_cpu;

namespace {

using Outputs = std::vector<Tensor>;

struct KernelCase {
  std::string name;
  bool exact;
  std::function<Outputs(Backend&, Device)> run;
};

// Runs each case on both devices and compares every output. A kernel that throws on either
// device, a missing one included, fails its case.
void run_cases(const std::vector<KernelCase>& cases, DType t) {
  for (const KernelCase& c : cases) {
    Outputs cpu, gpu;
    try {
      cpu = c.run(backend_for(Device::CPU), Device::CPU);
    } catch (const Error& e) {
      FAIL_CHECK(c.name << " (" << dtype_name(t) << ") threw on the CPU: " << e.what());
      continue;
    }
    try {
      gpu = c.run(backend_for(Device::CUDA), Device::CUDA);
      backend_for(Device::CUDA).synchronize();
    } catch (const Error& e) {
      FAIL_CHECK(c.name << " (" << dtype_name(t) << ") threw on CUDA: " << e.what());
      continue;
    }
    REQUIRE(cpu.size() == gpu.size());
    for (std::size_t i = 0; i < cpu.size(); ++i) {
      const std::string why = test::compare(gpu[i], cpu[i], c.exact, test::tolerance(cpu[i].dtype()));
      CHECK_MESSAGE(why.empty(), c.name << " (" << dtype_name(t) << ") output " << i << ": " << why);
    }
  }
}

Tensor empty(const Shape& s, DType t, Device d) { return Tensor::empty(s, t, d); }

// Values rounded to a coarse grid, so that maxima tie and argmax must pick the first.
Tensor with_ties(const Shape& s, DType t, std::uint64_t seed) {
  Tensor x = random_cpu(s, DType::f64, seed, -3.0, 3.0);
  double* p = x.data<double>();
  for (std::int64_t i = 0; i < x.numel(); ++i) p[i] = std::floor(p[i]);
  return x.to(t);
}

void set_nan(Tensor& cpu, std::int64_t i) {
  if (cpu.dtype() == DType::f32)
    cpu.data<float>()[i] = std::numeric_limits<float>::quiet_NaN();
  else
    cpu.data<double>()[i] = std::numeric_limits<double>::quiet_NaN();
}

Tensor indices_cpu(const Shape& s, std::int64_t n, std::uint64_t seed) {
  Tensor u = random_cpu(s, DType::f64, seed, 0.0, static_cast<double>(n));
  std::vector<std::int64_t> v(static_cast<std::size_t>(u.numel()));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::int64_t>(u.data<double>()[i]);
  return Tensor::from_vector(v, s);
}

// ---- fills, casts, random ---------------------------------------------------------------------

std::vector<KernelCase> fill_cast_random_cases(DType t) {
  std::vector<KernelCase> cs;
  for (DType ft : {t, DType::i64, DType::u8, DType::f16, DType::bf16})
    cs.push_back({"fill " + std::string(dtype_name(ft)), true, [ft](Backend& b, Device d) {
                    Tensor out = empty({1031}, ft, d);
                    b.fill(out, 7.75);
                    return Outputs{out};
                  }});
  const Tensor base = random_cpu({777}, DType::f64, 11, 0.0, 200.0);
  // The 16-bit types share core/half.h with the CPU, so their casts are bit-exact too.
  constexpr DType kAll[] = {DType::f32, DType::f64, DType::i64, DType::u8, DType::f16, DType::bf16};
  for (DType src : kAll)
    for (DType dst : kAll) {
      Tensor s = empty(base.shape(), src, Device::CPU);
      backend_for(Device::CPU).cast(base, s);
      cs.push_back({"cast " + std::string(dtype_name(src)) + "->" + std::string(dtype_name(dst)), true,
                    [s, dst](Backend& b, Device d) {
                      Tensor out = empty(s.shape(), dst, d);
                      b.cast(on(s, d), out);
                      return Outputs{out};
                    }});
    }
  cs.push_back({"random_uniform", true, [t](Backend& b, Device d) {
                  Tensor out = empty({4099}, t, d);
                  b.random_uniform(out, 1234, 7, -2.0, 3.0);
                  return Outputs{out};
                }});
  cs.push_back({"random_normal", false, [t](Backend& b, Device d) {
                  Tensor out = empty({4099}, t, d);
                  b.random_normal(out, 99, 3, 0.5, 2.0);
                  return Outputs{out};
                }});
  return cs;
}

// ---- elementwise ------------------------------------------------------------------------------

struct UnarySpec {
  UnaryOp op;
  const char* name;
  double lo, hi, alpha;
  bool differentiable;
};

const UnarySpec kUnary[] = {
    {UnaryOp::neg, "neg", -2, 2, 0, true},           {UnaryOp::exp, "exp", -3, 3, 0, true},
    {UnaryOp::log, "log", 0.1, 5, 0, true},          {UnaryOp::sqrt, "sqrt", 0.1, 5, 0, true},
    {UnaryOp::abs, "abs", -2, 2, 0, true},           {UnaryOp::relu, "relu", -2, 2, 0, true},
    {UnaryOp::sigmoid, "sigmoid", -6, 6, 0, true},   {UnaryOp::tanh, "tanh", -3, 3, 0, true},
    {UnaryOp::scale, "scale", -2, 2, -1.5, true},    {UnaryOp::add_scalar, "add_scalar", -2, 2, 0.25, true},
    {UnaryOp::pow, "pow", 0.1, 3, 2.5, true},        {UnaryOp::clamp_min, "clamp_min", -2, 2, 0.1, true},
    {UnaryOp::leaky_relu, "leaky_relu", -2, 2, 0.01, true}, {UnaryOp::acos, "acos", -0.99, 0.99, 0, false},
    {UnaryOp::floor, "floor", -5, 5, 0, false},      {UnaryOp::sign, "sign", -2, 2, 0, false},
};

std::vector<KernelCase> elementwise_cases(DType t) {
  std::vector<KernelCase> cs;
  const char* names[] = {"add", "sub", "mul", "div", "maximum", "minimum"};
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{5, 7, 3}, {5, 7, 3}}, {{5, 7, 3}, {7, 3}}, {{3}, {5, 7, 3}}, {{5, 7, 3}, {1}}};
  for (int k = 0; k < 6; ++k) {
    const BinaryOp op = static_cast<BinaryOp>(k);
    for (const auto& [sa, sb] : shapes) {
      const Tensor a = random_cpu(sa, t, 21 + k, -2, 2);
      const Tensor bb = random_cpu(sb, t, 31 + k, 0.5, 2);  // away from zero for div
      const Shape so = sa.numel() >= sb.numel() ? sa : sb;
      cs.push_back({std::string("binary ") + names[k] + " " + sa.str() + " " + sb.str(), true,
                    [=](Backend& b, Device d) {
                      Tensor out = empty(so, t, d);
                      b.binary(op, on(a, d), on(bb, d), out);
                      return Outputs{out};
                    }});
    }
  }
  for (const UnarySpec& u : kUnary) {
    const Tensor x = random_cpu({9, 113}, t, 41 + static_cast<int>(u.op), u.lo, u.hi);
    cs.push_back({std::string("unary ") + u.name, false, [=](Backend& b, Device d) {
                    Tensor y = empty(x.shape(), t, d);
                    b.unary(u.op, on(x, d), u.alpha, y);
                    return Outputs{y};
                  }});
    if (!u.differentiable) continue;
    Tensor y = empty(x.shape(), t, Device::CPU);
    backend_for(Device::CPU).unary(u.op, x, u.alpha, y);
    const Tensor gy = random_cpu(x.shape(), t, 61 + static_cast<int>(u.op));
    cs.push_back({std::string("unary_backward ") + u.name, false, [=](Backend& b, Device d) {
                    Tensor gx = empty(x.shape(), t, d);
                    b.unary_backward(u.op, on(x, d), on(y, d), on(gy, d), u.alpha, gx);
                    return Outputs{gx};
                  }});
  }
  const Tensor g = random_cpu({6, 5, 4}, t, 71);
  for (const Shape& so : {Shape{5, 4}, Shape{4}, Shape{1}, Shape{6, 5, 4}})
    cs.push_back({"sum_to_suffix " + so.str(), false, [=](Backend& b, Device d) {
                    Tensor out = empty(so, t, d);
                    b.sum_to_suffix(on(g, d), out);
                    return Outputs{out};
                  }});
  const Tensor big = random_cpu({3000, 40}, t, 72);
  cs.push_back({"sum_to_suffix [3000, 40] -> [40]", false, [=](Backend& b, Device d) {
                  Tensor out = empty({40}, t, d);
                  b.sum_to_suffix(on(big, d), out);
                  return Outputs{out};
                }});
  return cs;
}

// ---- axis kernels -----------------------------------------------------------------------------

const AxisView kViews[] = {{3, 17, 1}, {4, 9, 5}, {1, 1000, 1}, {2, 3, 300}, {1, 1, 7}, {5, 2000, 3}};

std::string view_str(AxisView v) {
  return "[" + std::to_string(v.outer) + ", " + std::to_string(v.n) + ", " + std::to_string(v.inner) + "]";
}

std::vector<KernelCase> axis_cases(DType t) {
  std::vector<KernelCase> cs;
  for (const AxisView v : kViews) {
    const Shape s{v.outer, v.n, v.inner};
    const Tensor x = random_cpu(s, t, 81);
    for (ReduceOp op : {ReduceOp::sum, ReduceOp::mean})
      cs.push_back({std::string(op == ReduceOp::sum ? "reduce sum " : "reduce mean ") + view_str(v), false,
                    [=](Backend& b, Device d) {
                      Tensor out = empty({v.outer, v.inner}, t, d);
                      b.reduce(op, on(x, d), v, out, nullptr);
                      return Outputs{out};
                    }});
    Tensor ties = with_ties(s, t, 82);
    cs.push_back({"reduce max (ties) " + view_str(v), true, [=](Backend& b, Device d) {
                    Tensor out = empty({v.outer, v.inner}, t, d);
                    Tensor idx = empty({v.outer, v.inner}, DType::i64, d);
                    b.reduce(ReduceOp::max, on(ties, d), v, out, &idx);
                    return Outputs{out, idx};
                  }});
    Tensor nans = ties.clone();
    for (std::int64_t i = 0; i < nans.numel(); i += 7) set_nan(nans, i);
    cs.push_back({"reduce max (NaN) " + view_str(v), true, [=](Backend& b, Device d) {
                    Tensor out = empty({v.outer, v.inner}, t, d);
                    Tensor idx = empty({v.outer, v.inner}, DType::i64, d);
                    b.reduce(ReduceOp::max, on(nans, d), v, out, &idx);
                    return Outputs{out, idx};
                  }});
    const Tensor g = random_cpu({v.outer, v.inner}, t, 83);
    cs.push_back({"broadcast_axis " + view_str(v), true, [=](Backend& b, Device d) {
                    Tensor out = empty(s, t, d);
                    b.broadcast_axis(on(g, d), v, 0.25, out);
                    return Outputs{out};
                  }});
    const Tensor idx = indices_cpu({v.outer, v.inner}, v.n, 84);
    cs.push_back({"gather_axis " + view_str(v), true, [=](Backend& b, Device d) {
                    Tensor out = empty({v.outer, v.inner}, t, d);
                    b.gather_axis(on(x, d), on(idx, d), v, out);
                    return Outputs{out};
                  }});
    cs.push_back({"scatter_add_axis " + view_str(v), true, [=](Backend& b, Device d) {
                    Tensor out = on(x, d);  // accumulates into existing values
                    b.scatter_add_axis(on(g, d), on(idx, d), v, out);
                    return Outputs{out};
                  }});
    const Tensor sx = random_cpu(s, t, 85, -4, 4);
    const Tensor gy = random_cpu(s, t, 86);
    for (bool log : {false, true}) {
      const std::string kind = log ? "log_softmax " : "softmax ";
      cs.push_back({kind + view_str(v), false, [=](Backend& b, Device d) {
                      Tensor y = empty(s, t, d);
                      b.softmax(on(sx, d), v, log, y);
                      return Outputs{y};
                    }});
      cs.push_back({kind + "backward " + view_str(v), false, [=](Backend& b, Device d) {
                      // y from this device's forward: the backward is checked on consistent inputs.
                      Tensor y = empty(s, t, d), gx = empty(s, t, d);
                      b.softmax(on(sx, d), v, log, y);
                      b.softmax_backward(y, on(gy, d), v, log, gx);
                      return Outputs{gx};
                    }});
    }
  }
  // Many (o, i) pairs pick the same index j; each still owns its slot (o, j, i), so the GPU adds
  // once per slot, as the CPU does.
  const Tensor g = random_cpu({2, 500, 3}, t, 87);
  const Tensor idx = indices_cpu({2, 500, 3}, 4, 88);
  cs.push_back({"scatter_add_axis (repeated indices)", true, [=](Backend& b, Device d) {
                  Tensor out = Tensor::zeros({2, 4, 500 * 3}, t, d);
                  b.scatter_add_axis(on(g, d), on(idx, d), AxisView{2, 4, 1500}, out);
                  return Outputs{out};
                }});
  for (DType ct : {t, DType::i64, DType::u8}) {
    Tensor src = empty({6 * 10}, ct, Device::CPU);
    backend_for(Device::CPU).cast(random_cpu({60}, DType::f64, 89, 0, 100), src);
    Tensor dst0 = empty({6 * 12}, ct, Device::CPU);
    backend_for(Device::CPU).cast(random_cpu({72}, DType::f64, 90, 0, 100), dst0);
    cs.push_back({"copy_rows " + std::string(dtype_name(ct)), true, [=](Backend& b, Device d) {
                    Tensor dst = on(dst0, d);
                    b.copy_rows(on(src, d), 10, 3, dst, 12, 5, 6, 4, false);
                    return Outputs{dst};
                  }});
    if (is_floating(ct))
      cs.push_back({"copy_rows accumulate", true, [=](Backend& b, Device d) {
                      Tensor dst = on(dst0, d);
                      b.copy_rows(on(src, d), 10, 3, dst, 12, 5, 6, 4, true);
                      return Outputs{dst};
                    }});
    cs.push_back({"copy_rows one row " + std::string(dtype_name(ct)), true, [=](Backend& b, Device d) {
                    Tensor dst = on(dst0, d);
                    b.copy_rows(on(src, d), 0, 7, dst, 0, 2, 1, 50, false);
                    return Outputs{dst};
                  }});
    const struct {
      Shape in;
      std::vector<int> perm;
    } perms[] = {{{2, 3, 4, 5}, {3, 1, 0, 2}}, {{2, 1, 3, 2, 2, 3}, {5, 4, 3, 2, 1, 0}}, {{7, 9}, {1, 0}}};
    for (const auto& p : perms) {
      Tensor x = empty(p.in, ct, Device::CPU);
      backend_for(Device::CPU).cast(random_cpu(p.in, DType::f64, 91, 0, 100), x);
      Shape out_shape = p.in;
      for (std::size_t k = 0; k < p.perm.size(); ++k) out_shape[static_cast<int>(k)] = p.in[p.perm[k]];
      const std::vector<int> perm = p.perm;
      cs.push_back({"permute " + p.in.str() + " " + std::string(dtype_name(ct)), true, [=](Backend& b, Device d) {
                      Tensor y = empty(out_shape, ct, d);
                      b.permute(on(x, d), perm.data(), y);
                      return Outputs{y};
                    }});
    }
  }
  return cs;
}

// ---- GEMM -------------------------------------------------------------------------------------

std::vector<KernelCase> gemm_cases(DType t) {
  std::vector<KernelCase> cs;
  struct G {
    std::int64_t m, n, k, batch;
    bool b_shared;
    double alpha, beta;
  };
  const G geoms[] = {{7, 5, 9, 1, false, 1.0, 0.0}, {7, 5, 9, 1, false, 1.5, 0.5}, {4, 6, 3, 3, false, 1.0, 0.0},
                     {4, 6, 3, 3, true, 1.0, 1.0},  {128, 96, 200, 1, false, 1.0, 0.0}, {1, 1, 1, 1, false, 2.0, 0.0}};
  for (const G& g : geoms)
    for (int tr = 0; tr < 4; ++tr) {
      GemmArgs args;
      args.trans_a = tr & 1;
      args.trans_b = tr & 2;
      args.m = g.m, args.n = g.n, args.k = g.k, args.batch = g.batch;
      args.stride_a = g.m * g.k;
      args.stride_b = g.b_shared ? 0 : g.k * g.n;
      args.stride_c = g.m * g.n;
      args.alpha = g.alpha, args.beta = g.beta;
      const Tensor a = random_cpu({g.batch * g.m * g.k}, t, 101);
      const Tensor bm = random_cpu({(g.b_shared ? 1 : g.batch) * g.k * g.n}, t, 102);
      const Tensor c0 = random_cpu({g.batch * g.m * g.n}, t, 103);
      cs.push_back({"gemm m" + std::to_string(g.m) + " n" + std::to_string(g.n) + " k" + std::to_string(g.k) + " batch" +
                        std::to_string(g.batch) + (g.b_shared ? " shared-b" : "") + " ta" + std::to_string(args.trans_a) +
                        " tb" + std::to_string(args.trans_b) + " beta" + std::to_string(g.beta),
                    false, [=](Backend& b, Device d) {
                      Tensor c = on(c0, d);
                      b.gemm(args, on(a, d), on(bm, d), c);
                      return Outputs{c};
                    }});
    }
  return cs;
}

// ---- layers -----------------------------------------------------------------------------------

std::int64_t conv_out(std::int64_t in, int k, int stride, int pad, int dil) {
  return (in + 2 * pad - dil * (k - 1) - 1) / stride + 1;
}

std::vector<KernelCase> conv_cases(DType t) {
  std::vector<KernelCase> cs;
  struct C {
    std::int64_t n, c, h, w, k;
    int r, s;
    Conv2dArgs a;
  };
  const C geoms[] = {
      {2, 4, 9, 8, 6, 3, 3, {1, 1, 1, 1, 1, 1, 1}},   // 3x3 same
      {2, 4, 9, 8, 6, 3, 3, {2, 2, 0, 0, 1, 1, 2}},   // strided, 2 groups
      {1, 4, 11, 10, 4, 3, 3, {1, 1, 2, 2, 2, 2, 4}}, // depthwise, dilated
      {3, 5, 6, 7, 8, 1, 1, {1, 1, 0, 0, 1, 1, 1}},   // 1x1
      {2, 3, 10, 9, 4, 5, 3, {2, 1, 2, 1, 1, 1, 1}},  // asymmetric kernel, stride and padding
      {2, 16, 28, 28, 32, 3, 3, {1, 1, 1, 1, 1, 1, 1}},
  };
  for (const C& g : geoms) {
    const std::int64_t p = conv_out(g.h, g.r, g.a.stride_h, g.a.pad_h, g.a.dilation_h);
    const std::int64_t q = conv_out(g.w, g.s, g.a.stride_w, g.a.pad_w, g.a.dilation_w);
    const Shape xs{g.n, g.c, g.h, g.w}, ws{g.k, g.c / g.a.groups, g.r, g.s}, ys{g.n, g.k, p, q};
    const Tensor x = random_cpu(xs, t, 111), w = random_cpu(ws, t, 112), bias = random_cpu({g.k}, t, 113);
    const Tensor gy = random_cpu(ys, t, 114);
    const Conv2dArgs a = g.a;
    const std::string name = "conv2d x" + xs.str() + " w" + ws.str() + " groups " + std::to_string(a.groups);
    for (bool with_bias : {false, true}) {
      cs.push_back({name + (with_bias ? " forward+bias" : " forward"), false, [=](Backend& b, Device d) {
                      Tensor y = empty(ys, t, d);
                      const Tensor bd = on(bias, d);
                      b.conv2d_forward(a, on(x, d), on(w, d), with_bias ? &bd : nullptr, y);
                      return Outputs{y};
                    }});
      cs.push_back({name + (with_bias ? " backward-filter+bias" : " backward-filter"), false,
                    [=](Backend& b, Device d) {
                      Tensor gw = empty(ws, t, d), gb = empty({g.k}, t, d);
                      b.conv2d_backward_filter(a, on(x, d), on(gy, d), gw, with_bias ? &gb : nullptr);
                      return with_bias ? Outputs{gw, gb} : Outputs{gw};
                    }});
    }
    cs.push_back({name + " backward-data", false, [=](Backend& b, Device d) {
                    Tensor gx = empty(xs, t, d);
                    b.conv2d_backward_data(a, on(gy, d), on(w, d), gx);
                    return Outputs{gx};
                  }});
  }
  return cs;
}

// Batch mean and 1/sqrt(biased var + eps) per channel of x [N, C, ...], computed in double here.
std::pair<Tensor, Tensor> batch_stats(const Tensor& x, double eps) {
  const std::int64_t n = x.size(0), c = x.size(1), s = x.numel() / (n * c);
  const std::vector<double> v = x.to_vector<double>();
  std::vector<double> mean(static_cast<std::size_t>(c)), invstd(static_cast<std::size_t>(c));
  for (std::int64_t ch = 0; ch < c; ++ch) {
    double sum = 0, sq = 0;
    for (std::int64_t b = 0; b < n; ++b)
      for (std::int64_t i = 0; i < s; ++i) sum += v[static_cast<std::size_t>((b * c + ch) * s + i)];
    const double m = sum / static_cast<double>(n * s);
    for (std::int64_t b = 0; b < n; ++b)
      for (std::int64_t i = 0; i < s; ++i) {
        const double dlt = v[static_cast<std::size_t>((b * c + ch) * s + i)] - m;
        sq += dlt * dlt;
      }
    mean[static_cast<std::size_t>(ch)] = m;
    invstd[static_cast<std::size_t>(ch)] = 1.0 / std::sqrt(sq / static_cast<double>(n * s) + eps);
  }
  return {Tensor::from_vector(mean, {c}).to(x.dtype()), Tensor::from_vector(invstd, {c}).to(x.dtype())};
}

std::vector<KernelCase> batch_norm_cases(DType t) {
  std::vector<KernelCase> cs;
  const double eps = 1e-5, momentum = 0.1;
  for (const Shape& s : {Shape{4, 3, 5, 6}, Shape{8, 5}, Shape{2, 7, 33, 31}}) {
    const std::int64_t c = s[1];
    const Tensor x = random_cpu(s, t, 121, -2, 3), gy = random_cpu(s, t, 122);
    const Tensor gamma = random_cpu({c}, t, 123, 0.5, 1.5), beta = random_cpu({c}, t, 124);
    const Tensor rm0 = random_cpu({c}, t, 125), rv0 = random_cpu({c}, t, 126, 0.5, 2);
    const auto [save_mean, save_invstd] = batch_stats(x, eps);
    for (bool affine : {true, false}) {
      const std::string name = "batch_norm " + s.str() + (affine ? " affine" : " no-affine");
      for (bool relu : {false, true}) {
        const std::string fused = relu ? " + relu" : "";
        for (bool track : {true, false})
          cs.push_back({name + (track ? " train" : " train (no running stats)") + fused, false,
                        [=](Backend& b, Device d) {
                          const Tensor g = on(gamma, d), be = on(beta, d);
                          Tensor rm = on(rm0, d), rv = on(rv0, d);
                          Tensor y = empty(s, t, d), sm = empty({c}, t, d), si = empty({c}, t, d);
                          b.batch_norm_train(on(x, d), affine ? &g : nullptr, affine ? &be : nullptr, eps, momentum,
                                             track ? &rm : nullptr, track ? &rv : nullptr, relu, y, sm, si);
                          return track ? Outputs{y, sm, si, rm, rv} : Outputs{y, sm, si};
                        }});
        cs.push_back({name + " eval" + fused, false, [=](Backend& b, Device d) {
                        const Tensor g = on(gamma, d), be = on(beta, d);
                        Tensor y = empty(s, t, d);
                        b.batch_norm_eval(on(x, d), affine ? &g : nullptr, affine ? &be : nullptr, eps, on(rm0, d),
                                          on(rv0, d), relu, y);
                        return Outputs{y};
                      }});
      }
      cs.push_back({name + " backward", false, [=](Backend& b, Device d) {
                      const Tensor g = on(gamma, d);
                      Tensor gx = empty(s, t, d), gg = empty({c}, t, d), gb = empty({c}, t, d);
                      b.batch_norm_backward(on(x, d), on(gy, d), affine ? &g : nullptr, on(save_mean, d),
                                            on(save_invstd, d), gx, affine ? &gg : nullptr, affine ? &gb : nullptr);
                      return affine ? Outputs{gx, gg, gb} : Outputs{gx};
                    }});
      cs.push_back({name + " eval backward", false, [=](Backend& b, Device d) {
                      const Tensor g = on(gamma, d);
                      Tensor gx = empty(s, t, d);
                      b.batch_norm_eval_backward(on(gy, d), affine ? &g : nullptr, eps, on(rv0, d), gx);
                      return Outputs{gx};
                    }});
    }
  }
  return cs;
}

// PyTorch's pooling output size (ceil_mode: the last window must start inside the padded input).
std::int64_t pool_out(std::int64_t in, int k, int stride, int pad, bool ceil_mode) {
  const std::int64_t span = in + 2 * pad - k;
  std::int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

std::vector<KernelCase> pool_cases(DType t) {
  std::vector<KernelCase> cs;
  struct P {
    Shape x;
    Pool2dArgs a;
  };
  const P geoms[] = {
      {{2, 3, 7, 9}, {3, 3, 2, 2, 1, 1, false, true}},
      {{2, 3, 7, 9}, {3, 3, 2, 2, 1, 1, true, true}},
      {{2, 3, 7, 9}, {3, 3, 2, 2, 1, 1, true, false}},
      {{1, 2, 9, 11}, {2, 2, 2, 2, 0, 0, true, true}},
      {{2, 2, 8, 6}, {3, 2, 1, 2, 1, 0, false, false}},
      {{4, 16, 56, 56}, {3, 3, 2, 2, 1, 1, true, true}},
  };
  for (const P& g : geoms) {
    const Pool2dArgs a = g.a;
    const std::int64_t p = pool_out(g.x[2], a.kernel_h, a.stride_h, a.pad_h, a.ceil_mode);
    const std::int64_t q = pool_out(g.x[3], a.kernel_w, a.stride_w, a.pad_w, a.ceil_mode);
    const Shape ys{g.x[0], g.x[1], p, q};
    Tensor x = with_ties(g.x, t, 131);
    const Tensor gy = random_cpu(ys, t, 132);
    const std::string name = "pool2d " + g.x.str() + " k" + std::to_string(a.kernel_h) + "x" + std::to_string(a.kernel_w) +
                             " s" + std::to_string(a.stride_h) + "," + std::to_string(a.stride_w) + " p" +
                             std::to_string(a.pad_h) + "," + std::to_string(a.pad_w) + (a.ceil_mode ? " ceil" : "") +
                             (a.count_include_pad ? "" : " exclude-pad");
    Tensor xnan = x.clone();
    for (std::int64_t i = 3; i < xnan.numel(); i += 11) set_nan(xnan, i);
    for (const bool nan : {false, true}) {
      const Tensor in = nan ? xnan : x;
      cs.push_back({"max " + name + (nan ? " (NaN)" : ""), true, [=](Backend& b, Device d) {
                      Tensor y = empty(ys, t, d), idx = empty(ys, DType::i64, d);
                      b.max_pool2d_forward(a, on(in, d), y, idx);
                      return Outputs{y, idx};
                    }});
      // The GPU gathers over the windows in the order the CPU scatters them: the same sums.
      cs.push_back({"max " + name + " backward" + (nan ? " (NaN)" : ""), true, [=](Backend& b, Device d) {
                      Tensor y = empty(ys, t, d), idx = empty(ys, DType::i64, d), gx = empty(g.x, t, d);
                      b.max_pool2d_forward(a, on(in, d), y, idx);
                      b.max_pool2d_backward(a, on(gy, d), idx, gx);
                      return Outputs{gx};
                    }});
    }
    cs.push_back({"avg " + name, false, [=](Backend& b, Device d) {
                    Tensor y = empty(ys, t, d);
                    b.avg_pool2d_forward(a, on(x, d), y);
                    return Outputs{y};
                  }});
    cs.push_back({"avg " + name + " backward", false, [=](Backend& b, Device d) {
                    Tensor gx = empty(g.x, t, d);
                    b.avg_pool2d_backward(a, on(gy, d), gx);
                    return Outputs{gx};
                  }});
  }
  return cs;
}

std::vector<KernelCase> prelu_masked_softmax_cases(DType t) {
  std::vector<KernelCase> cs;
  const std::pair<Shape, Shape> prelu_shapes[] = {{{4, 3, 5}, {3}}, {{4, 3, 5}, {1}}, {{6, 5}, {5}}, {{2, 64, 20, 20}, {64}}};
  for (const auto& [xs, ss] : prelu_shapes) {
    const Tensor x = random_cpu(xs, t, 141), slope = random_cpu(ss, t, 142, 0.05, 0.5), gy = random_cpu(xs, t, 143);
    const std::string name = "prelu x" + xs.str() + " slope" + ss.str();
    cs.push_back({name, false, [=](Backend& b, Device d) {
                    Tensor y = empty(xs, t, d);
                    b.prelu_forward(on(x, d), on(slope, d), y);
                    return Outputs{y};
                  }});
    for (bool with_slope : {true, false})
      cs.push_back({name + (with_slope ? " backward" : " backward (x only)"), false, [=](Backend& b, Device d) {
                      Tensor gx = empty(xs, t, d), gs = empty(ss, t, d);
                      b.prelu_backward(on(x, d), on(slope, d), on(gy, d), gx, with_slope ? &gs : nullptr);
                      return with_slope ? Outputs{gx, gs} : Outputs{gx};
                    }});
  }
  const Tensor scores = random_cpu({5, 7}, t, 151, -3, 3), gw = random_cpu({5, 7}, t, 152);
  const Tensor counts = Tensor::from_vector<std::int64_t>({3, 0, 7, 1, 5}, {5});
  cs.push_back({"masked_softmax", false, [=](Backend& b, Device d) {
                  Tensor w = empty({5, 7}, t, d);
                  b.masked_softmax(on(scores, d), on(counts, d), w);
                  return Outputs{w};
                }});
  cs.push_back({"masked_softmax backward", false, [=](Backend& b, Device d) {
                  Tensor w = empty({5, 7}, t, d), gs = empty({5, 7}, t, d);
                  b.masked_softmax(on(scores, d), on(counts, d), w);
                  b.masked_softmax_backward(w, on(gw, d), gs);
                  return Outputs{gs};
                }});
  return cs;
}

}  // namespace

TEST_CASE("fills, casts and random streams match the CPU") {
  for (DType t : {DType::f32, DType::f64}) run_cases(fill_cast_random_cases(t), t);
}

TEST_CASE("elementwise kernels match the CPU") {
  for (DType t : {DType::f32, DType::f64}) run_cases(elementwise_cases(t), t);
}

TEST_CASE("axis kernels, row copies and permute match the CPU") {
  for (DType t : {DType::f32, DType::f64}) run_cases(axis_cases(t), t);
}

TEST_CASE("gemm matches the CPU") {
  for (DType t : {DType::f32, DType::f64}) run_cases(gemm_cases(t), t);
}

TEST_CASE("conv2d matches the CPU") {
  for (DType t : {DType::f32, DType::f64}) run_cases(conv_cases(t), t);
}

TEST_CASE("batch norm matches the CPU") {
  for (DType t : {DType::f32, DType::f64}) run_cases(batch_norm_cases(t), t);
}

TEST_CASE("pooling matches the CPU (max-pool indices bit-exact)") {
  for (DType t : {DType::f32, DType::f64}) run_cases(pool_cases(t), t);
}

TEST_CASE("prelu and masked softmax match the CPU") {
  for (DType t : {DType::f32, DType::f64}) run_cases(prelu_masked_softmax_cases(t), t);
}

TEST_CASE("masked softmax gives exact zeros outside the counts, never NaN") {
  const Tensor scores = random_cpu({3, 4}, DType::f32, 161, -50, 50).to(Device::CUDA);
  const Tensor counts = Tensor::from_vector<std::int64_t>({0, 2, 4}, {3}).to(Device::CUDA);
  Tensor w = Tensor::empty({3, 4}, DType::f32, Device::CUDA), gs = Tensor::empty({3, 4}, DType::f32, Device::CUDA);
  backend_for(Device::CUDA).masked_softmax(scores, counts, w);
  backend_for(Device::CUDA).masked_softmax_backward(w, random_cpu({3, 4}, DType::f32, 162).to(Device::CUDA), gs);
  const std::vector<float> wv = w.to_vector<float>(), gv = gs.to_vector<float>();
  for (int j = 0; j < 4; ++j) {
    CHECK(wv[static_cast<std::size_t>(j)] == 0.0f);
    CHECK(gv[static_cast<std::size_t>(j)] == 0.0f);
  }
  CHECK(wv[6] == 0.0f);
  CHECK(wv[7] == 0.0f);
  for (float v : wv) CHECK_FALSE(std::isnan(v));
}
