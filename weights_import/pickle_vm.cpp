#include "weights_import/pickle_vm.h"

#include <algorithm>
#include <unordered_map>

#include "core/error.h"
#include "weights_import/byte_reader.h"

namespace gler::wi {

using Kind = Value::Kind;

const Value* Value::get(std::string_view key) const {
  if (kind != Kind::Dict) return nullptr;
  for (std::size_t j = 0; j + 1 < items.size(); j += 2)
    if (items[j]->kind == Kind::Str && items[j]->s == key) return items[j + 1];
  return nullptr;
}

std::string_view kind_name(Kind k) {
  static constexpr std::string_view names[] = {"None",   "bool",       "int",    "int",   "float", "str",
                                               "bytes",  "tuple",      "list",   "dict",  "set",   "global",
                                               "object", "persistent", "tensor", "array", "dtype"};
  return names[static_cast<int>(k)];
}

namespace {

// Globals that may appear in the files we read. Only these names produce values; the classes
// under kClassPrefixes produce inert objects; everything else is refused.
constexpr std::string_view kFunctions[] = {
    "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor", "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state", "collections.OrderedDict", "builtins.set", "builtins.frozenset",
    "__builtin__.set", "__builtin__.frozenset", "_codecs.encode", "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
    "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar", "numpy.dtype", "numpy.ndarray",
    "copyreg._reconstructor", "copy_reg._reconstructor", "torch.Size"};
// Python 3 pickles at protocol <= 2 use Python 2 names (range -> __builtin__.xrange).
constexpr std::string_view kInertClasses[] = {"torch.device",      "builtins.range",
                                              "__builtin__.xrange", "builtins.slice",     "__builtin__.slice",
                                              "builtins.object",   "__builtin__.object", "builtins.complex",
                                              "__builtin__.complex"};
constexpr std::string_view kClassPrefixes[] = {"torch.nn.", "torchvision.", "__main__."};
constexpr std::string_view kStorages[] = {
    "FloatStorage", "DoubleStorage", "HalfStorage", "BFloat16Storage", "LongStorage", "IntStorage",
    "ShortStorage", "CharStorage",   "ByteStorage", "BoolStorage",     "UntypedStorage"};
constexpr std::string_view kTorchDtypes[] = {"float32", "float64", "float16", "bfloat16", "int64", "int32",
                                             "int16",   "int8",    "uint8",   "bool",     "float", "double",
                                             "half",    "long",    "int",     "short"};

template <std::size_t N>
bool listed(const std::string_view (&list)[N], std::string_view name) {
  return std::find(std::begin(list), std::end(list), name) != std::end(list);
}

bool allowed_global(const std::string& module, const std::string& name, const std::string& full) {
  if (listed(kFunctions, full) || listed(kInertClasses, full)) return true;
  if (module == "torch" && (listed(kStorages, name) || listed(kTorchDtypes, name))) return true;
  if (module == "torch.cuda" && listed(kStorages, name)) return true;  // GPU-trained legacy files
  if (module == "torch.storage" && name == "UntypedStorage") return true;
  for (auto p : kClassPrefixes)
    if (full.compare(0, p.size(), p) == 0) return true;
  return false;
}

std::string latin1_to_utf8(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

// _codecs.encode(s, 'latin1'): Python 2 byte strings in Python 3 pickles.
std::string utf8_to_latin1(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      GLER_CHECK((c == 0xC2 || c == 0xC3) && i + 1 < s.size() && (static_cast<unsigned char>(s[i + 1]) & 0xC0) == 0x80,
                 "pickle: _codecs.encode: string is not encodable as latin1");
      out += static_cast<char>(((c & 0x03) << 6) | (static_cast<unsigned char>(s[++i]) & 0x3F));
    }
  }
  return out;
}

class Machine {
 public:
  Machine(const std::uint8_t* data, std::size_t size, const PickleLimits& limits)
      : r_(data, size, "pickle"), limits_(limits) {}

  Pickle run() {
    while (true) {
      std::size_t at = r_.pos();
      std::uint8_t op = r_.u8();
      try {
        if (step(op)) break;
      } catch (const Error& e) {
        std::string msg = e.what();
        if (msg.rfind("pickle", 0) != 0) msg = "pickle: " + msg;
        throw Error(msg + " (opcode 0x" + hex(op) + " at byte " + std::to_string(at) + ")");
      }
    }
    out_.consumed = r_.pos();
    return std::move(out_);
  }

 private:
  static std::string hex(std::uint8_t v) {
    const char* d = "0123456789abcdef";
    return {d[v >> 4], d[v & 15]};
  }

  Value* make(Kind k) {
    GLER_CHECK(out_.arena.size() < limits_.max_values, "pickle: more than " << limits_.max_values << " values");
    Value& v = out_.arena.emplace_back();
    v.kind = k;
    return &v;
  }
  Value* make_int(std::int64_t i) {
    Value* v = make(Kind::Int);
    v->i = i;
    return v;
  }
  Value* make_str(Kind k, std::string s) {
    Value* v = make(k);
    v->s = std::move(s);
    return v;
  }
  void push(Value* v) {
    GLER_CHECK(stack_.size() < limits_.max_stack, "pickle: stack deeper than " << limits_.max_stack);
    stack_.push_back(v);
  }
  Value* pop() {
    GLER_CHECK(stack_.size() > base(), "pickle: stack underflow");
    Value* v = stack_.back();
    stack_.pop_back();
    return v;
  }
  Value* top() {
    GLER_CHECK(stack_.size() > base(), "pickle: stack underflow");
    return stack_.back();
  }
  std::size_t base() const { return marks_.empty() ? 0 : marks_.back(); }
  // Pops everything above the last MARK, and the mark.
  std::vector<Value*> pop_mark() {
    GLER_CHECK(!marks_.empty(), "pickle: no MARK on the stack");
    std::size_t m = marks_.back();
    marks_.pop_back();
    std::vector<Value*> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  Value* tuple(std::vector<Value*> items) {
    Value* t = make(Kind::Tuple);
    t->items = std::move(items);
    return t;
  }
  void memo_put(std::uint64_t key) {
    GLER_CHECK(memo_.size() < limits_.max_values || memo_.count(key), "pickle: memo too large");
    memo_[key] = top();
  }
  Value* memo_get(std::uint64_t key) {
    auto it = memo_.find(key);
    GLER_CHECK(it != memo_.end(), "pickle: memo key " << key << " was never stored");
    return it->second;
  }
  Value* need_kind(Value* v, Kind k, const char* what) {
    GLER_CHECK(v->kind == k, "pickle: " << what << " expects a " << kind_name(k) << ", got a " << kind_name(v->kind));
    return v;
  }
  static const Value* arg(const Value* args, std::size_t i, const std::string& fn) {
    GLER_CHECK(args->is_sequence() && args->items.size() > i,
               "pickle: " << fn << " called with too few arguments");
    return args->items[i];
  }
  static bool is_range(const Value* v) {
    return v->kind == Kind::Object && (v->s == "builtins.range" || v->s == "__builtin__.xrange");
  }
  // range(stop) / range(start, stop[, step]) as its ints; at most `limit` of them.
  static std::vector<std::int64_t> range_ints(const Value* r, std::size_t limit, const char* what) {
    std::vector<std::int64_t> args;
    for (const Value* x : r->items) {
      GLER_CHECK(x->kind == Kind::Int, "pickle: " << what << ": range() of a " << kind_name(x->kind));
      args.push_back(x->i);
    }
    GLER_CHECK(!args.empty() && args.size() <= 3, "pickle: " << what << ": range() with " << args.size() << " arguments");
    std::int64_t start = args.size() == 1 ? 0 : args[0], stop = args.size() == 1 ? args[0] : args[1];
    std::int64_t step = args.size() == 3 ? args[2] : 1;
    GLER_CHECK(step != 0, "pickle: " << what << ": range() step is zero");
    // In 128 bits: the span of two int64 values cannot overflow there.
    const __int128 span = static_cast<__int128>(stop) - start;
    const __int128 count = step > 0 ? (span > 0 ? (span + step - 1) / step : 0) : (span < 0 ? (span + step + 1) / step : 0);
    GLER_CHECK(count <= static_cast<__int128>(limit), "pickle: " << what << " has more than " << limit << " dimensions");
    std::vector<std::int64_t> out;
    for (__int128 k = 0; k < count; ++k) out.push_back(static_cast<std::int64_t>(start + k * step));
    return out;
  }
  // Every tuple-like value a pickle may hold where a shape or stride is meant: tuples, lists,
  // torch.Size (already a tuple here, see call()) and range objects.
  static std::vector<std::int64_t> int_tuple(const Value* v, const char* what) {
    constexpr std::size_t kMaxDims = 32;
    if (is_range(v)) return range_ints(v, kMaxDims, what);
    GLER_CHECK(v->is_sequence(), "pickle: " << what << " must be a tuple of ints (got: " << kind_name(v->kind)
                                            << (v->kind == Kind::Object ? " " + v->s : "") << ")");
    GLER_CHECK(v->items.size() <= kMaxDims, "pickle: " << what << " has more than " << kMaxDims << " dimensions");
    std::vector<std::int64_t> out;
    for (const Value* x : v->items) {
      GLER_CHECK(x->kind == Kind::Int, "pickle: " << what << " must be a tuple of ints (got: a " << kind_name(x->kind)
                                                  << " inside)");
      out.push_back(x->i);
    }
    return out;
  }

  void set_item(Value* container, Value* key, Value* value) {
    GLER_CHECK(container->kind == Kind::Dict, "pickle: SETITEM on a " << kind_name(container->kind));
    if (key->kind == Kind::Str)
      for (std::size_t j = 0; j + 1 < container->items.size(); j += 2)
        if (container->items[j]->kind == Kind::Str && container->items[j]->s == key->s) {
          container->items[j + 1] = value;
          return;
        }
    container->items.push_back(key);
    container->items.push_back(value);
  }

  Value* call(Value* fn, Value* args) {
    // Legacy torch.save stores module classes as persistent ids ('module', class, file, source).
    if (fn->kind == Kind::Persistent) {
      const Value* pid = fn->items[0];
      GLER_CHECK(pid->kind == Kind::Tuple && pid->items.size() >= 2 && pid->items[0]->kind == Kind::Str &&
                     pid->items[0]->s == "module" && pid->items[1]->kind == Kind::Global,
                 "pickle: cannot call a persistent id other than a module class");
      fn = pid->items[1];
    }
    GLER_CHECK(fn->kind == Kind::Global, "pickle: cannot call a " << kind_name(fn->kind));
    need_kind(args, Kind::Tuple, "a call");
    const std::string& name = fn->s;
    if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
      auto t = std::make_unique<TensorRef>();
      t->storage = arg(args, 0, name);
      GLER_CHECK(t->storage->kind == Kind::Persistent, "pickle: " << name << " expects a storage");
      const Value* off = arg(args, 1, name);
      GLER_CHECK(off->kind == Kind::Int && off->i >= 0, "pickle: bad storage offset in " << name);
      t->offset = off->i;
      t->shape = int_tuple(arg(args, 2, name), "tensor size");
      t->stride = int_tuple(arg(args, 3, name), "tensor stride");
      GLER_CHECK(t->shape.size() == t->stride.size(), "pickle: tensor size and stride differ in length");
      Value* v = make(Kind::Tensor);
      v->tensor = std::move(t);
      return v;
    }
    if (name == "torch._utils._rebuild_parameter" || name == "torch._utils._rebuild_parameter_with_state") {
      const Value* data = arg(args, 0, name);
      GLER_CHECK(data->kind == Kind::Tensor, "pickle: " << name << " expects a tensor");
      return const_cast<Value*>(data);
    }
    if (name == "torch.nn.parameter.Parameter" && !args->items.empty() && args->items[0]->kind == Kind::Tensor)
      return args->items[0];
    if (name == "torch.Size") {
      // A tuple subclass: REDUCE (torch >= 0.4.1 defines __reduce__) or NEWOBJ (copyreg.__newobj__
      // of a plain tuple subclass) of torch.Size with its dimensions as the one argument.
      const Value* dims = args->items.empty() ? nullptr : args->items[0];
      GLER_CHECK(args->items.size() == 1 && dims->is_sequence(), "pickle: torch.Size expects one tuple of dimensions");
      return tuple(dims->items);
    }
    if (name == "collections.OrderedDict") {
      Value* d = make(Kind::Dict);
      if (!args->items.empty() && args->items[0]->is_sequence())
        for (Value* pair : args->items[0]->items) {
          GLER_CHECK(pair->is_sequence() && pair->items.size() == 2, "pickle: OrderedDict expects (key, value) pairs");
          set_item(d, pair->items[0], pair->items[1]);
        }
      return d;
    }
    if (name == "builtins.set" || name == "builtins.frozenset" || name == "__builtin__.set" ||
        name == "__builtin__.frozenset") {
      Value* s = make(Kind::Set);
      if (!args->items.empty() && args->items[0]->is_sequence()) s->items = args->items[0]->items;
      return s;
    }
    if (name == "_codecs.encode") {
      const Value* s = arg(args, 0, name);
      GLER_CHECK(s->kind == Kind::Str, "pickle: _codecs.encode expects a str");
      if (args->items.size() > 1) {
        const Value* enc = args->items[1];
        GLER_CHECK(enc->kind == Kind::Str && (enc->s == "latin1" || enc->s == "latin-1"),
                   "pickle: _codecs.encode: only latin1 is supported");
      }
      return make_str(Kind::Bytes, utf8_to_latin1(s->s));
    }
    if (name.ends_with("multiarray._reconstruct")) {
      return make_str(Kind::Object, "numpy.ndarray");  // filled in by BUILD
    }
    if (name == "numpy.dtype") {
      const Value* d = arg(args, 0, name);
      GLER_CHECK(d->kind == Kind::Str && !d->s.empty() && d->s.size() < 16, "pickle: numpy.dtype expects a type code");
      return make_str(Kind::Dtype, d->s);
    }
    if (name.ends_with("multiarray.scalar")) {
      const Value* dt = arg(args, 0, name);
      const Value* raw = arg(args, 1, name);
      GLER_CHECK(dt->kind == Kind::Dtype && raw->kind == Kind::Bytes, "pickle: numpy scalar expects (dtype, bytes)");
      return array_value(*dt, {}, raw->s);
    }
    if (name == "copyreg._reconstructor" || name == "copy_reg._reconstructor") {
      const Value* cls = arg(args, 0, name);
      GLER_CHECK(cls->kind == Kind::Global, "pickle: copyreg._reconstructor expects a class");
      return make_str(Kind::Object, cls->s);
    }
    if (name == "torch.storage.UntypedStorage" || (name.rfind("torch.", 0) == 0 && name.ends_with("Storage")))
      GLER_FAIL("pickle: storages must come through persistent ids, not " << name << "()");
    // A recorded class (torch.nn.*, torchvision.*, __main__.*, torch.device, ...): an inert object.
    Value* o = make_str(Kind::Object, name);
    o->items = args->items;
    return o;
  }

  Value* array_value(const Value& dtype, const std::vector<std::int64_t>& shape, const std::string& raw) {
    // Reuse the .npy reader's checks by giving it an equivalent header.
    std::string descr = dtype.s;
    char order = descr[0];
    if (order == '<' || order == '>' || order == '|' || order == '=') descr = descr.substr(1);
    else order = '|';
    GLER_CHECK(descr[0] != 'O', "pickle: NumPy object arrays inside pickles are not supported");
    std::string header = "{'descr': '" + std::string(1, order == '=' ? '<' : order) + descr +
                         "', 'fortran_order': False, 'shape': (";
    for (auto d : shape) header += std::to_string(d) + ",";
    header += "), }";
    GLER_CHECK(header.size() < 60000, "pickle: array header too long");
    std::vector<std::uint8_t> npy = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                                     static_cast<std::uint8_t>(header.size() & 0xFF),
                                     static_cast<std::uint8_t>(header.size() >> 8)};
    npy.insert(npy.end(), header.begin(), header.end());
    std::size_t data_at = npy.size();
    npy.insert(npy.end(), raw.begin(), raw.end());
    auto a = std::make_unique<NdArray>(parse_npy(npy.data(), npy.size()));
    std::size_t expect = static_cast<std::size_t>(a->numel()) * a->itemsize();
    GLER_CHECK(npy.size() - data_at == expect,
               "pickle: NumPy array data has " << raw.size() << " bytes, its shape needs " << expect);
    Value* v = make(Kind::Array);
    v->array = std::move(a);
    return v;
  }

  void build(Value* obj, Value* state) {
    if (obj->kind == Kind::Object && obj->s == "numpy.ndarray") {
      GLER_CHECK(state->is_sequence() && (state->items.size() == 5 || state->items.size() == 4),
                 "pickle: unexpected NumPy array state");
      std::size_t o = state->items.size() == 5 ? 1 : 0;
      auto shape = int_tuple(state->items[o], "array shape");
      const Value* dtype = state->items[o + 1];
      const Value* fortran = state->items[o + 2];
      const Value* raw = state->items[o + 3];
      GLER_CHECK(dtype->kind == Kind::Dtype, "pickle: NumPy array state lacks a dtype");
      GLER_CHECK(fortran->kind == Kind::Bool && !fortran->b, "pickle: Fortran-order arrays are not supported");
      if (raw->kind == Kind::List) {
        // An object array (np.save of a dict, as the MTCNN weights): its elements, in C order.
        std::int64_t n = 1, have = static_cast<std::int64_t>(raw->items.size());
        for (auto d : shape) {
          GLER_CHECK(d >= 0 && (d == 0 || n <= have / d), "pickle: object array shape does not match its data");
          n *= d;
        }
        GLER_CHECK(n == have, "pickle: object array shape does not match its data");
        obj->kind = Kind::List;
        obj->s.clear();
        obj->items = raw->items;
        return;
      }
      GLER_CHECK(raw->kind == Kind::Bytes || raw->kind == Kind::Str, "pickle: NumPy object arrays are not supported");
      std::string bytes = raw->kind == Kind::Str ? utf8_to_latin1(raw->s) : raw->s;
      Value* a = array_value(*dtype, shape, bytes);
      std::swap(obj->kind, a->kind);
      std::swap(obj->array, a->array);
      return;
    }
    if (obj->kind == Kind::Dtype) {
      if (state->is_sequence() && state->items.size() >= 2 && state->items[1]->kind == Kind::Str &&
          state->items[1]->s.size() == 1 && obj->s.size() < 16 && std::string("<>|=").find(obj->s[0]) == std::string::npos)
        obj->s = state->items[1]->s + obj->s;
      return;
    }
    if (obj->kind == Kind::Object) {
      // (dict, slots) tuples come from classes with __slots__; the dict part is the state.
      if (state->kind == Kind::Tuple && state->items.size() == 2 && state->items[0]->kind == Kind::Dict)
        state = state->items[0];
      obj->state = state;
      return;
    }
    // A dict's BUILD state holds its instance attributes, never items: e.g. the _metadata
    // (per-module versions) of a torch >= 0.4.1 state dict.
    if (obj->kind == Kind::Tensor || obj->kind == Kind::Dict) return;
    GLER_FAIL("pickle: BUILD on a " << kind_name(obj->kind));
  }

  std::string line() {
    std::string s;
    while (true) {
      char c = static_cast<char>(r_.u8());
      if (c == '\n') return s;
      GLER_CHECK(s.size() < 256, "pickle: GLOBAL name too long");
      s += c;
    }
  }

  Value* global(const std::string& module, const std::string& name) {
    std::string full = module + "." + name;
    GLER_CHECK(allowed_global(module, name, full),
               "pickle: refusing global '" << full << "' (only tensor, NumPy and torch.nn/torchvision module "
                                           << "classes are allowed)");
    return make_str(Kind::Global, full);
  }

  // Executes one opcode; true at STOP.
  bool step(std::uint8_t op) {
    switch (op) {
      case 0x80: {  // PROTO
        std::uint8_t p = r_.u8();
        GLER_CHECK(p <= 5, "pickle: unsupported protocol " << int(p));
        return false;
      }
      case 0x95: r_.u64(); return false;  // FRAME: sizes are advisory; every read is bounded anyway
      case '.': {                         // STOP
        GLER_CHECK(stack_.size() == 1 && marks_.empty(), "pickle: STOP with " << stack_.size() << " values on the stack");
        out_.root = stack_.back();
        return true;
      }
      case '(':
        GLER_CHECK(marks_.size() < limits_.max_stack, "pickle: too many MARKs");
        marks_.push_back(stack_.size());
        return false;
      case '0': pop(); return false;
      case '1': pop_mark(); return false;
      case '2': push(top()); return false;
      case 'N': push(make(Kind::None)); return false;
      case 0x88:
      case 0x89: {
        Value* v = make(Kind::Bool);
        v->b = op == 0x88;
        push(v);
        return false;
      }
      case 'J': push(make_int(r_.i32())); return false;
      case 'K': push(make_int(r_.u8())); return false;
      case 'M': push(make_int(r_.u16())); return false;
      case 0x8a:
      case 0x8b: {  // LONG1, LONG4: little-endian two's complement
        std::int64_t n = op == 0x8a ? r_.u8() : r_.i32();
        GLER_CHECK(n >= 0 && n <= 64, "pickle: integer of " << n << " bytes is too large");
        std::string_view bytes = r_.take_str(static_cast<std::uint64_t>(n));
        if (n > 8) {
          push(make_str(Kind::BigInt, std::string(bytes)));
          return false;
        }
        std::uint64_t u = 0;
        for (std::int64_t j = n - 1; j >= 0; --j) u = (u << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(j)]);
        if (n > 0 && n < 8 && (static_cast<unsigned char>(bytes[static_cast<std::size_t>(n - 1)]) & 0x80))
          u |= ~std::uint64_t{0} << (8 * n);  // sign-extend
        push(make_int(static_cast<std::int64_t>(u)));
        return false;
      }
      case 'G': {
        Value* v = make(Kind::Float);
        v->f = r_.f64_be();
        push(v);
        return false;
      }
      case 'X': push(make_str(Kind::Str, std::string(r_.take_str(r_.u32())))); return false;
      case 0x8c: push(make_str(Kind::Str, std::string(r_.take_str(r_.u8())))); return false;
      case 0x8d: push(make_str(Kind::Str, std::string(r_.take_str(r_.u64())))); return false;
      case 'T': {
        std::int32_t n = r_.i32();
        GLER_CHECK(n >= 0, "pickle: negative string length");
        push(make_str(Kind::Str, latin1_to_utf8(r_.take_str(static_cast<std::uint64_t>(n)))));
        return false;
      }
      case 'U': push(make_str(Kind::Str, latin1_to_utf8(r_.take_str(r_.u8())))); return false;
      case 'B': push(make_str(Kind::Bytes, std::string(r_.take_str(r_.u32())))); return false;
      case 'C': push(make_str(Kind::Bytes, std::string(r_.take_str(r_.u8())))); return false;
      case 0x8e:
      case 0x96: push(make_str(Kind::Bytes, std::string(r_.take_str(r_.u64())))); return false;
      case ')': push(make(Kind::Tuple)); return false;
      case 't': push(tuple(pop_mark())); return false;
      case 0x85:
      case 0x86:
      case 0x87: {
        std::size_t n = static_cast<std::size_t>(op - 0x84);
        std::vector<Value*> items(n);
        for (std::size_t j = n; j-- > 0;) items[j] = pop();
        push(tuple(std::move(items)));
        return false;
      }
      case ']': push(make(Kind::List)); return false;
      case 'l': {
        Value* l = make(Kind::List);
        l->items = pop_mark();
        push(l);
        return false;
      }
      case 'a': {
        Value* v = pop();
        Value* l = need_kind(top(), Kind::List, "APPEND");
        l->items.push_back(v);
        return false;
      }
      case 'e': {
        auto items = pop_mark();
        Value* l = top();
        if (l->kind == Kind::Object) return false;  // list subclasses: contents are not needed
        need_kind(l, Kind::List, "APPENDS");
        l->items.insert(l->items.end(), items.begin(), items.end());
        return false;
      }
      case '}': push(make(Kind::Dict)); return false;
      case 'd': {
        auto items = pop_mark();
        GLER_CHECK(items.size() % 2 == 0, "pickle: DICT with an odd number of items");
        Value* d = make(Kind::Dict);
        for (std::size_t j = 0; j < items.size(); j += 2) set_item(d, items[j], items[j + 1]);
        push(d);
        return false;
      }
      case 's': {
        Value* v = pop();
        Value* k = pop();
        set_item(top(), k, v);
        return false;
      }
      case 'u': {
        auto items = pop_mark();
        GLER_CHECK(items.size() % 2 == 0, "pickle: SETITEMS with an odd number of items");
        Value* d = top();
        for (std::size_t j = 0; j < items.size(); j += 2) set_item(d, items[j], items[j + 1]);
        return false;
      }
      case 0x8f: push(make(Kind::Set)); return false;
      case 0x90: {
        auto items = pop_mark();
        Value* s = need_kind(top(), Kind::Set, "ADDITEMS");
        s->items.insert(s->items.end(), items.begin(), items.end());
        return false;
      }
      case 0x91: {
        Value* s = make(Kind::Set);
        s->items = pop_mark();
        push(s);
        return false;
      }
      case 'c': {
        std::string module = line();
        std::string name = line();
        push(global(module, name));
        return false;
      }
      case 0x93: {
        Value* name = need_kind(pop(), Kind::Str, "STACK_GLOBAL");
        Value* module = need_kind(pop(), Kind::Str, "STACK_GLOBAL");
        push(global(module->s, name->s));
        return false;
      }
      case 'R': {
        Value* args = pop();
        Value* fn = pop();
        push(call(fn, args));
        return false;
      }
      case 0x81: {  // NEWOBJ: cls.__new__(cls, *args)
        Value* args = pop();
        Value* cls = pop();
        push(call(cls, args));
        return false;
      }
      case 0x92: {  // NEWOBJ_EX
        pop();  // kwargs
        Value* args = pop();
        Value* cls = pop();
        push(call(cls, args));
        return false;
      }
      case 'b': {
        Value* state = pop();
        build(top(), state);
        return false;
      }
      case 'Q': {
        Value* p = make(Kind::Persistent);
        p->items.push_back(pop());
        push(p);
        return false;
      }
      case 'q': memo_put(r_.u8()); return false;
      case 'r': memo_put(r_.u32()); return false;
      case 0x94: memo_put(memo_.size()); return false;
      case 'h': push(memo_get(r_.u8())); return false;
      case 'j': push(memo_get(r_.u32())); return false;
      default:
        GLER_FAIL("pickle: unsupported opcode 0x" << hex(op));
    }
  }

  ByteReader r_;
  PickleLimits limits_;
  Pickle out_;
  std::vector<Value*> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, Value*> memo_;
};

}  // namespace

Pickle unpickle(const std::uint8_t* data, std::size_t size, const PickleLimits& limits) {
  return Machine(data, size, limits).run();
}

}  // namespace gler::wi
