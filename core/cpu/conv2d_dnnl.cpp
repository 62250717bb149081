// Convolution on oneDNN's direct kernels (f32 only; see conv2d_dnnl.h for when it is used).
//
// A oneDNN primitive is costly to create (it picks and JIT-compiles a kernel for one shape), so
// each is built once per shape and kept in a cache. User tensors are always plain nchw / oihw.
// Which formats the primitive itself runs on was measured (docs/PERFORMANCE.md, "oneDNN path"):
//   1x1 kernels: plain nchw. They are GEMMs over channels either way, and reordering the tensors
//     into blocked formats and back costs more than it saves.
//   larger kernels over 16+ input channels: whatever blocked formats oneDNN picks (format "any"),
//     with reorders in and out on every call. The blocked direct kernels run 1.2-3x faster than
//     the plain-layout ones, far more than the reorders cost. forward_prelu (inference) saves the
//     reorder out: its epilogue reads the blocked output itself.
//   larger kernels over few channels (a network's first layer): blocked for the forward pass,
//     where oneDNN's first-layer kernel reads plain input and beat the plain GEMM path 2.2x on
//     MTCNN's 3-channel layers; plain for the backward passes, since blocking pads 3 channels to
//     16 and the backward-data kernel on that layout ran 3-4x slower.
#include "core/cpu/conv2d_dnnl.h"

#include <array>
#include <cstdlib>
#include <cstring>
#include <dnnl.hpp>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/cpu/pool2d.h"
#include "core/error.h"

namespace gler::dnnl_conv {

namespace {

using dnnl::memory;
using Tag = memory::format_tag;

// One CPU engine for the process, created on first use: a function-local static rather than a
// CpuBackend member, so that core/cpu/cpu_backend.h (and every file including it) stays free of
// oneDNN's headers. Primitives keep a reference to it, so it must outlive the cache: it is
// constructed before the cache (first use is in the cache's lookup) and destroyed after it.
const dnnl::engine& engine() {
  static const dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

// A CPU stream is a cheap handle, but oneDNN does not promise that one may be used from two
// threads at once: each thread gets its own.
dnnl::stream& stream() {
  thread_local dnnl::stream s(engine());
  return s;
}

enum class Pass : std::int64_t { forward, backward_data, backward_filter };

// The memory descriptors of one convolution in the user's (plain) layout.
struct Descs {
  bool blocked;  // create the primitive for oneDNN's preferred formats (see the header comment)
  memory::desc src, weights, bias, dst;
  memory::dims strides, dilates, pad_l, pad_r;

  // x: [N, C, H, W], w: [K, C/groups, R, S], y: [N, K, P, Q]. oneDNN counts dilation from 0, and
  // pad_r = pad_l reproduces floor((H + 2 pad - dilated kernel) / stride) + 1 output rows, the
  // same integer division oneDNN checks the output size with.
  Descs(Pass pass, const Conv2dArgs& a, const Shape& x, const Shape& w, const Shape& y)
      : blocked(w[2] * w[3] > 1 && (x[1] >= 16 || pass == Pass::forward)),
        src({x[0], x[1], x[2], x[3]}, memory::data_type::f32, Tag::nchw),
        weights(a.groups == 1 ? memory::desc({w[0], w[1], w[2], w[3]}, memory::data_type::f32, Tag::oihw)
                              : memory::desc({a.groups, w[0] / a.groups, w[1], w[2], w[3]}, memory::data_type::f32,
                                             Tag::goihw)),
        bias({w[0]}, memory::data_type::f32, Tag::x),
        dst({y[0], y[1], y[2], y[3]}, memory::data_type::f32, Tag::nchw),
        strides{a.stride_h, a.stride_w},
        dilates{a.dilation_h - 1, a.dilation_w - 1},
        pad_l{a.pad_h, a.pad_w},
        pad_r{a.pad_h, a.pad_w} {}

  // The format the primitive is created for: the user's, or "any" to let oneDNN choose.
  memory::desc primitive_format(const memory::desc& user) const {
    return blocked ? memory::desc(user.dims(), user.data_type(), Tag::any) : user;
  }
};


dnnl::convolution_forward::primitive_desc forward_pd(const Descs& d, bool bias, const dnnl::primitive_attr& attr) {
  const auto prop = dnnl::prop_kind::forward_training;
  const auto algo = dnnl::algorithm::convolution_direct;
  const memory::desc src = d.primitive_format(d.src), w = d.primitive_format(d.weights), dst = d.primitive_format(d.dst);
  const auto desc = bias ? dnnl::convolution_forward::desc(prop, algo, src, w, d.bias, dst, d.strides, d.dilates,
                                                           d.pad_l, d.pad_r)
                         : dnnl::convolution_forward::desc(prop, algo, src, w, dst, d.strides, d.dilates, d.pad_l,
                                                           d.pad_r);
  return {desc, attr, engine()};
}

// A created primitive with the formats it runs on (the user's, unless Descs::blocked).
struct Entry {
  dnnl::primitive primitive;
  memory::desc src, weights, dst, scratchpad;  // src/dst: x/y, or gx/gy for backward data
};

Entry make_entry(Pass pass, const Descs& d, bool bias) {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);  // buffer() below, not a library buffer shared by all primitives
  const auto fwd = forward_pd(d, bias, attr);
  const auto algo = dnnl::algorithm::convolution_direct;
  switch (pass) {
    case Pass::forward:
      return {dnnl::convolution_forward(fwd), fwd.src_desc(), fwd.weights_desc(), fwd.dst_desc(), fwd.scratchpad_desc()};
    case Pass::backward_data: {
      const dnnl::convolution_backward_data::desc desc(algo, d.primitive_format(d.src), d.primitive_format(d.weights),
                                                       d.primitive_format(d.dst), d.strides, d.dilates, d.pad_l,
                                                       d.pad_r);
      const dnnl::convolution_backward_data::primitive_desc pd(desc, attr, engine(), fwd);
      return {dnnl::convolution_backward_data(pd), pd.diff_src_desc(), pd.weights_desc(), pd.diff_dst_desc(),
              pd.scratchpad_desc()};
    }
    case Pass::backward_filter: {
      const memory::desc src = d.primitive_format(d.src), w = d.primitive_format(d.weights), dst = d.primitive_format(d.dst);
      const auto desc = bias ? dnnl::convolution_backward_weights::desc(algo, src, w, d.bias, dst, d.strides,
                                                                        d.dilates, d.pad_l, d.pad_r)
                             : dnnl::convolution_backward_weights::desc(algo, src, w, dst, d.strides, d.dilates,
                                                                        d.pad_l, d.pad_r);
      const dnnl::convolution_backward_weights::primitive_desc pd(desc, attr, engine(), fwd);
      return {dnnl::convolution_backward_weights(pd), pd.src_desc(), pd.diff_weights_desc(), pd.diff_dst_desc(),
              pd.scratchpad_desc()};
    }
  }
  GLER_FAIL("conv2d (oneDNN): unknown pass");
}

// The cached primitive for a pass over these shapes, created on first use. Entries are never
// erased, so the returned reference stays valid while other threads insert.
const Entry& cached(Pass pass, const Conv2dArgs& a, const Shape& x, const Shape& w, const Shape& y, bool bias) {
  using Key = std::array<std::int64_t, 18>;
  const Key key{static_cast<std::int64_t>(pass), x[0], x[1], x[2], x[3], w[0], w[2], w[3], y[2], y[3],
                a.stride_h, a.stride_w, a.pad_h, a.pad_w, a.dilation_h, a.dilation_w, a.groups, bias};
  static std::mutex mutex;
  static std::map<Key, Entry> cache;
  const std::lock_guard lock(mutex);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, make_entry(pass, Descs(pass, a, x, w, y), bias)).first;
  return it->second;
}

// Per-thread buffers that only grow, cache-line aligned as oneDNN's kernels prefer: the
// primitive's scratchpad (user scratchpad mode), forward_prelu's output in the primitive's own
// format, then the reordered arguments.
enum Slot : std::size_t { scratchpad, kept_output, first_argument };

void* buffer(std::size_t slot, std::size_t bytes) {
  struct alignas(64) Line {
    char bytes[64];
  };
  thread_local std::vector<std::vector<Line>> buffers;
  if (buffers.size() <= slot) buffers.resize(slot + 1);
  std::vector<Line>& b = buffers[slot];
  if (b.size() * sizeof(Line) < bytes) b.resize((bytes + sizeof(Line) - 1) / sizeof(Line));
  return b.data();
}

// One primitive argument: a user tensor in its plain format, and the format the primitive wants.
struct Arg {
  int id;
  const memory::desc& user;
  const memory::desc& wanted;
  void* data;
  bool output;
};

// Runs the primitive on user memory, reordering into and out of the primitive's formats where
// they differ (only for Descs::blocked primitives).
void run(const Entry& e, std::initializer_list<Arg> args) {
  dnnl::stream& s = stream();
  std::unordered_map<int, memory> bound;
  std::vector<std::pair<memory, memory>> outputs;  // (internal, user) to reorder back
  std::size_t slot = first_argument;
  for (const Arg& arg : args) {
    memory user(arg.user, engine(), arg.data);
    if (arg.user == arg.wanted) {
      bound.emplace(arg.id, user);
      continue;
    }
    memory internal(arg.wanted, engine(), buffer(slot++, arg.wanted.get_size()));
    if (arg.output)
      outputs.emplace_back(internal, user);
    else
      dnnl::reorder(user, internal).execute(s, user, internal);
    bound.emplace(arg.id, internal);
  }
  bound.emplace(DNNL_ARG_SCRATCHPAD, memory(e.scratchpad, engine(), buffer(scratchpad, e.scratchpad.get_size())));
  e.primitive.execute(s, bound);
  for (auto& [internal, user] : outputs) dnnl::reorder(internal, user).execute(s, internal, user);
  s.wait();
}

// The forward pass into y (bound as user memory of format `dst`: the user's nchw or, for
// forward_prelu, the primitive's own).
void run_forward(const Entry& e, const Descs& d, const float* x, const float* w, const float* bias,
                 const memory::desc& dst, float* y) {
  void* px = const_cast<float*>(x);
  void* pw = const_cast<float*>(w);
  if (bias)
    run(e, {{DNNL_ARG_SRC, d.src, e.src, px, false},
            {DNNL_ARG_WEIGHTS, d.weights, e.weights, pw, false},
            {DNNL_ARG_BIAS, d.bias, d.bias, const_cast<float*>(bias), false},
            {DNNL_ARG_DST, dst, e.dst, y, true}});
  else
    run(e, {{DNNL_ARG_SRC, d.src, e.src, px, false},
            {DNNL_ARG_WEIGHTS, d.weights, e.weights, pw, false},
            {DNNL_ARG_DST, dst, e.dst, y, true}});
}

// The channel block of a primitive's nChw8c / nChw16c output format; 0 for any other format.
int channel_block(const memory::desc& dst) {
  const memory::dims dims = dst.dims();
  for (const auto& [tag, block] : {std::pair{Tag::nChw16c, 16}, std::pair{Tag::nChw8c, 8}})
    if (dst == memory::desc(dims, memory::data_type::f32, tag)) return block;
  return 0;
}

}  // namespace

bool wanted(const Tensor& x, const Tensor& w, const Shape& y) {
  static const bool im2col = [] {
    const char* v = std::getenv("GLER_CONV_IM2COL");
    return v && std::strcmp(v, "1") == 0;
  }();
  // Below ~0.25 MFLOP, oneDNN's fixed cost per call (~4 us: wrapping memory, the cache lookup,
  // the stream) exceeds im2col's whole run time; measured 1.5-4 us (im2col) against 4-6 us (oneDNN)
  // at 0.01 and 0.13 MFLOP, and oneDNN ahead 1.4-2x from 0.37 MFLOP up.
  const double flop = 2.0 * static_cast<double>(y.numel()) * static_cast<double>(w.numel() / w.size(0));
  return x.dtype() == DType::f32 && !im2col && flop >= 0.25e6;
}

void forward(const Conv2dArgs& a, const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y) {
  const Descs d(Pass::forward, a, x.shape(), w.shape(), y.shape());
  const Entry& e = cached(Pass::forward, a, x.shape(), w.shape(), y.shape(), bias != nullptr);
  run_forward(e, d, x.host_data<float>(), w.host_data<float>(), bias ? bias->host_data<float>() : nullptr, d.dst,
              y.host_data<float>());
}

bool forward_prelu(const Conv2dArgs& a, const Tensor& x, const Tensor& w, const Tensor* bias, const Tensor& slope,
                   const Pool2dArgs* pool, const Shape& conv, Tensor& y) {
  // The primitive of forward() for these shapes, so the convolution's values are forward()'s.
  const Descs d(Pass::forward, a, x.shape(), w.shape(), conv);
  const Entry& e = cached(Pass::forward, a, x.shape(), w.shape(), conv, bias != nullptr);
  const int block = channel_block(e.dst);
  if (block == 0) return false;
  float* z = static_cast<float*>(buffer(kept_output, e.dst.get_size()));
  run_forward(e, d, x.host_data<float>(), w.host_data<float>(), bias ? bias->host_data<float>() : nullptr, e.dst, z);
  prelu_max_pool_blocked({z, conv[0], conv[1], conv[2], conv[3], block}, slope.host_data<float>(), slope.numel() == 1,
                         pool, y.host_data<float>(), y.size(2), y.size(3));
  return true;
}

void backward_data(const Conv2dArgs& a, const Tensor& gy, const Tensor& w, Tensor& gx) {
  const Descs d(Pass::backward_data, a, gx.shape(), w.shape(), gy.shape());
  const Entry& e = cached(Pass::backward_data, a, gx.shape(), w.shape(), gy.shape(), false);
  run(e, {{DNNL_ARG_DIFF_DST, d.dst, e.dst, const_cast<float*>(gy.host_data<float>()), false},
          {DNNL_ARG_WEIGHTS, d.weights, e.weights, const_cast<float*>(w.host_data<float>()), false},
          {DNNL_ARG_DIFF_SRC, d.src, e.src, gx.host_data<float>(), true}});
}

void backward_filter(const Conv2dArgs& a, const Tensor& x, const Tensor& gy, Tensor& gw, Tensor* gb) {
  const Descs d(Pass::backward_filter, a, x.shape(), gw.shape(), gy.shape());
  const Entry& e = cached(Pass::backward_filter, a, x.shape(), gw.shape(), gy.shape(), gb != nullptr);
  if (gb)
    run(e, {{DNNL_ARG_SRC, d.src, e.src, const_cast<float*>(x.host_data<float>()), false},
            {DNNL_ARG_DIFF_DST, d.dst, e.dst, const_cast<float*>(gy.host_data<float>()), false},
            {DNNL_ARG_DIFF_WEIGHTS, d.weights, e.weights, gw.host_data<float>(), true},
            {DNNL_ARG_DIFF_BIAS, d.bias, d.bias, gb->host_data<float>(), true}});
  else
    run(e, {{DNNL_ARG_SRC, d.src, e.src, const_cast<float*>(x.host_data<float>()), false},
            {DNNL_ARG_DIFF_DST, d.dst, e.dst, const_cast<float*>(gy.host_data<float>()), false},
            {DNNL_ARG_DIFF_WEIGHTS, d.weights, e.weights, gw.host_data<float>(), true}});
}

}  // namespace gler::dnnl_conv
