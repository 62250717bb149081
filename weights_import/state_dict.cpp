#include "weights_import/state_dict.h"

#include <limits>
#include <regex>

#include "core/error.h"

namespace gler::wi {

using Kind = Value::Kind;

std::int64_t TensorData::numel() const { return checked_numel(shape, "tensor"); }

const TensorData* StateDict::find(const std::string& name) const {
  for (const auto& [n, t] : entries)
    if (n == name) return &t;
  return nullptr;
}

void StateDict::add(std::string name, TensorData t) {
  GLER_CHECK(!has(name), "duplicate tensor name '" << name << "'");
  entries.emplace_back(std::move(name), std::move(t));
}

std::size_t dtype_bytes(const std::string& d) {
  if (d == "F64" || d == "I64" || d == "U64") return 8;
  if (d == "F32" || d == "I32" || d == "U32") return 4;
  if (d == "F16" || d == "BF16" || d == "I16" || d == "U16") return 2;
  if (d == "I8" || d == "U8" || d == "BOOL") return 1;
  GLER_FAIL("unknown tensor dtype '" << d << "'");
}

std::string dtype_from_numpy(const std::string& descr) {
  std::string t = descr.size() > 1 ? descr.substr(1) : descr;
  static const std::map<std::string, std::string> names = {
      {"f8", "F64"}, {"f4", "F32"}, {"f2", "F16"}, {"i8", "I64"}, {"i4", "I32"}, {"i2", "I16"}, {"i1", "I8"},
      {"u8", "U64"}, {"u4", "U32"}, {"u2", "U16"}, {"u1", "U8"},  {"b1", "BOOL"}};
  auto it = names.find(t);
  GLER_CHECK(it != names.end(), "NumPy dtype '" << descr << "' cannot be stored as a tensor");
  return it->second;
}

TensorData from_ndarray(const NdArray& a) {
  TensorData t;
  t.dtype = dtype_from_numpy(a.descr);
  t.shape = a.shape;
  t.data = a.data;
  GLER_CHECK(t.data.size() == static_cast<std::size_t>(t.numel()) * dtype_bytes(t.dtype),
             "NumPy array data does not match its shape");
  return t;
}

std::int64_t checked_numel(const std::vector<std::int64_t>& shape, const char* what) {
  std::int64_t n = 1;
  for (auto d : shape) {
    GLER_CHECK(d >= 0, what << ": negative dimension " << d);
    GLER_CHECK(d == 0 || n <= std::numeric_limits<std::int64_t>::max() / d, what << ": element count overflows");
    n *= d;
  }
  return n;
}

std::string shape_str(const std::vector<std::int64_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + (shape.size() == 1 ? ",)" : ")");
}

namespace {

constexpr int kMaxDepth = 100;

using Collected = std::vector<std::pair<std::string, const Value*>>;

bool is_tensor(const Value* v) { return v->kind == Kind::Tensor || v->kind == Kind::Array; }

bool is_module(const Value* v) {
  return v->kind == Kind::Object && v->state && v->state->kind == Kind::Dict &&
         (v->state->get("_modules") || v->state->get("_parameters"));
}

bool in_set(const Value* set, const std::string& name) {
  if (!set || set->kind != Kind::Set) return false;
  for (const Value* x : set->items)
    if (x->kind == Kind::Str && x->s == name) return true;
  return false;
}

// PyTorch's Module.state_dict order: own parameters, own persistent buffers, then children.
void walk_module(const Value* m, const std::string& prefix, int depth, Collected& out) {
  GLER_CHECK(depth < kMaxDepth, "module tree nested deeper than " << kMaxDepth << " levels");
  const Value* state = m->state;
  const Value* skip = state->get("_non_persistent_buffers_set");
  for (const char* group : {"_parameters", "_buffers"}) {
    const Value* d = state->get(group);
    if (!d) continue;
    GLER_CHECK(d->kind == Kind::Dict, prefix << group << " is a " << kind_name(d->kind) << ", expected a dict");
    for (std::size_t j = 0; j + 1 < d->items.size(); j += 2) {
      const Value* k = d->items[j];
      const Value* v = d->items[j + 1];
      GLER_CHECK(k->kind == Kind::Str, prefix << group << " has a non-string key");
      if (v->kind == Kind::None || in_set(skip, k->s)) continue;
      GLER_CHECK(v->kind == Kind::Tensor, prefix << k->s << " is a " << kind_name(v->kind) << ", expected a tensor");
      out.emplace_back(prefix + k->s, v);
    }
  }
  const Value* mods = state->get("_modules");
  if (!mods) return;
  GLER_CHECK(mods->kind == Kind::Dict, prefix << "_modules is not a dict");
  for (std::size_t j = 0; j + 1 < mods->items.size(); j += 2) {
    const Value* k = mods->items[j];
    const Value* child = mods->items[j + 1];
    GLER_CHECK(k->kind == Kind::Str, prefix << "_modules has a non-string key");
    if (child->kind == Kind::None) continue;
    GLER_CHECK(is_module(child), prefix << k->s << " is not a module (a " << kind_name(child->kind) << " "
                                        << child->s << ")");
    walk_module(child, prefix + k->s + ".", depth + 1, out);
  }
}

void walk(const Value* v, const std::string& prefix, int depth, Collected& out) {
  GLER_CHECK(depth < kMaxDepth, "checkpoint nested deeper than " << kMaxDepth << " levels");
  if (is_module(v)) return walk_module(v, prefix, depth, out);
  GLER_CHECK(v->kind == Kind::Dict, "the checkpoint holds a " << kind_name(v->kind) << (v->s.empty() ? "" : " ")
                                                              << v->s << ", expected a module or a state dict");
  for (const char* key : {"state_dict", "model_state_dict", "model"}) {
    const Value* inner = v->get(key);
    if (inner && (inner->kind == Kind::Dict || is_module(inner))) return walk(inner, prefix, depth + 1, out);
  }
  for (std::size_t j = 0; j + 1 < v->items.size(); j += 2) {
    const Value* k = v->items[j];
    const Value* x = v->items[j + 1];
    if (k->kind != Kind::Str) continue;
    if (is_tensor(x)) out.emplace_back(prefix + k->s, x);
    else if (is_module(x) || x->kind == Kind::Dict) walk(x, prefix + k->s + ".", depth + 1, out);
  }
}

}  // namespace

Collected collect_tensors(const Value& root) {
  Collected out;
  walk(&root, "", 0, out);
  GLER_CHECK(!out.empty(), "the checkpoint holds no tensors");
  return out;
}

std::string normalize_name(const std::string& name) {
  static const std::regex dense(R"(denselayer(\d+)\.(norm|relu|conv)\.([12])\.)");
  std::string n = name;
  if (n.rfind("module.", 0) == 0) n = n.substr(7);
  if (n.rfind("non_align_model.", 0) == 0) n = n.substr(4);
  if (n.find("denselayer") != std::string::npos) n = std::regex_replace(n, dense, "denselayer$1.$2$3.");
  return n;
}

}  // namespace gler::wi
