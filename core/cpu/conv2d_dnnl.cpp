// Convolution on oneDNN's direct kernels (f32 only; see conv2d_dnnl.h for when it is used).
//
// A oneDNN primitive is costly to create (it picks and JIT-compiles a kernel for one shape), so
// each is built once per shape and kept in a cache. User tensors are always plain nchw / oihw.
// Which formats the primitive itself runs on was measured (docs/PERFORMANCE.md, "oneDNN path"):
//   1x1 kernels: plain nchw. They are GEMMs over channels either way, and reordering the tensors
//     into blocked formats and back costs more than it saves.
//   larger kernels over 16+ input channels: whatever blocked formats oneDNN picks (format "any"),
//     with reorders in and out on every call. The blocked direct kernels run 1.2-3x faster than
//     the plain-layout ones, far more than the reorders cost.
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
  Descs(Pass pass, const Conv2dArgs& a, const Tensor& x, const Tensor& w, const Tensor& y)
      : blocked(w.size(2) * w.size(3) > 1 && (x.size(1) >= 16 || pass == Pass::forward)),
        src({x.size(0), x.size(1), x.size(2), x.size(3)}, memory::data_type::f32, Tag::nchw),
        weights(a.groups == 1
                    ? memory::desc({w.size(0), w.size(1), w.size(2), w.size(3)}, memory::data_type::f32, Tag::oihw)
                    : memory::desc({a.groups, w.size(0) / a.groups, w.size(1), w.size(2), w.size(3)},
                                   memory::data_type::f32, Tag::goihw)),
        bias({w.size(0)}, memory::data_type::f32, Tag::x),
        dst({y.size(0), y.size(1), y.size(2), y.size(3)}, memory::data_type::f32, Tag::nchw),
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
const Entry& cached(Pass pass, const Conv2dArgs& a, const Tensor& x, const Tensor& w, const Tensor& y, bool bias) {
  using Key = std::array<std::int64_t, 18>;
  const Key key{static_cast<std::int64_t>(pass), x.size(0), x.size(1), x.size(2), x.size(3), w.size(0), w.size(2),
                w.size(3), y.size(2), y.size(3), a.stride_h, a.stride_w, a.pad_h, a.pad_w, a.dilation_h,
                a.dilation_w, a.groups, bias};
  static std::mutex mutex;
  static std::map<Key, Entry> cache;
  const std::lock_guard lock(mutex);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, make_entry(pass, Descs(pass, a, x, w, y), bias)).first;
  return it->second;
}

// Per-thread buffers that only grow, cache-line aligned as oneDNN's kernels prefer: slot 0 is the
// primitive's scratchpad (user scratchpad mode), the others hold reordered arguments.
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
  std::size_t slot = 0;
  for (const Arg& arg : args) {
    memory user(arg.user, engine(), arg.data);
    if (arg.user == arg.wanted) {
      bound.emplace(arg.id, user);
      continue;
    }
    memory internal(arg.wanted, engine(), buffer(++slot, arg.wanted.get_size()));
    if (arg.output)
      outputs.emplace_back(internal, user);
    else
      dnnl::reorder(user, internal).execute(s, user, internal);
    bound.emplace(arg.id, internal);
  }
  bound.emplace(DNNL_ARG_SCRATCHPAD, memory(e.scratchpad, engine(), buffer(0, e.scratchpad.get_size())));
  e.primitive.execute(s, bound);
  for (auto& [internal, user] : outputs) dnnl::reorder(internal, user).execute(s, internal, user);
  s.wait();
}

}  // namespace

bool wanted(const Tensor& x, const Tensor& w, const Tensor& y) {
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
  const Descs d(Pass::forward, a, x, w, y);
  const Entry& e = cached(Pass::forward, a, x, w, y, bias != nullptr);
  if (bias)
    run(e, {{DNNL_ARG_SRC, d.src, e.src, const_cast<float*>(x.host_data<float>()), false},
            {DNNL_ARG_WEIGHTS, d.weights, e.weights, const_cast<float*>(w.host_data<float>()), false},
            {DNNL_ARG_BIAS, d.bias, d.bias, const_cast<float*>(bias->host_data<float>()), false},
            {DNNL_ARG_DST, d.dst, e.dst, y.host_data<float>(), true}});
  else
    run(e, {{DNNL_ARG_SRC, d.src, e.src, const_cast<float*>(x.host_data<float>()), false},
            {DNNL_ARG_WEIGHTS, d.weights, e.weights, const_cast<float*>(w.host_data<float>()), false},
            {DNNL_ARG_DST, d.dst, e.dst, y.host_data<float>(), true}});
}

void backward_data(const Conv2dArgs& a, const Tensor& gy, const Tensor& w, Tensor& gx) {
  const Descs d(Pass::backward_data, a, gx, w, gy);
  const Entry& e = cached(Pass::backward_data, a, gx, w, gy, false);
  run(e, {{DNNL_ARG_DIFF_DST, d.dst, e.dst, const_cast<float*>(gy.host_data<float>()), false},
          {DNNL_ARG_WEIGHTS, d.weights, e.weights, const_cast<float*>(w.host_data<float>()), false},
          {DNNL_ARG_DIFF_SRC, d.src, e.src, gx.host_data<float>(), true}});
}

void backward_filter(const Conv2dArgs& a, const Tensor& x, const Tensor& gy, Tensor& gw, Tensor* gb) {
  const Descs d(Pass::backward_filter, a, x, gw, gy);
  const Entry& e = cached(Pass::backward_filter, a, x, gw, gy, gb != nullptr);
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
