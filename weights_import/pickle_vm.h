// A pickle virtual machine that never executes anything: it builds a plain value tree.
// GLOBAL names are only recorded. A whitelist maps the tensor/array rebuilders, torch.Size (to a
// tuple) and a few harmless builtins to values; torch.nn.*, torchvision.* and __main__.* classes
// become generic objects whose BUILD state is kept; any other global (os.system, builtins.eval, ...)
// is an error naming it.
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "weights_import/npy.h"

namespace gler::wi {

struct Value;

// torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...), offsets in elements.
struct TensorRef {
  const Value* storage = nullptr;  // a Persistent value (the storage's persistent id)
  std::int64_t offset = 0;
  std::vector<std::int64_t> shape, stride;
};

struct Value {
  enum class Kind : std::uint8_t {
    None, Bool, Int, BigInt, Float, Str, Bytes, Tuple, List, Dict, Set,
    Global,      // a whitelisted callable or class; s = "module.name"
    Object,      // an instance of a recorded class; s = class name, items = args, state = BUILD state
    Persistent,  // BINPERSID; items[0] = the persistent id
    Tensor,      // tensor
    Array,       // a NumPy array (array)
    Dtype,       // a NumPy dtype; s = descr such as "<f4"
  };
  Kind kind = Kind::None;
  bool b = false;
  std::int64_t i = 0;
  double f = 0;
  std::string s;                      // Str (UTF-8), Bytes, BigInt (little-endian two's complement), names
  std::vector<Value*> items;          // Tuple/List/Set elements, Dict key/value pairs, Object args
  Value* state = nullptr;             // Object: BUILD state
  std::unique_ptr<TensorRef> tensor;  // Tensor
  std::unique_ptr<NdArray> array;     // Array

  bool is(Kind k) const { return kind == k; }
  bool is_sequence() const { return kind == Kind::Tuple || kind == Kind::List; }
  // Dict lookup by string key; nullptr when absent or not a dict.
  const Value* get(std::string_view key) const;
};

std::string_view kind_name(Value::Kind k);

// The unpickled tree. Values live in an arena (memo references may share them, and hostile
// pickles may build cycles), so pointers stay valid as long as the Pickle does.
struct Pickle {
  std::deque<Value> arena;
  const Value* root = nullptr;
  std::size_t consumed = 0;  // bytes up to and including STOP
};

struct PickleLimits {
  std::size_t max_values = 2u << 20;  // values created (protects memory from hostile streams)
  std::size_t max_stack = 1u << 20;
};

// Runs one pickle (protocols 2-5) starting at data[0]; trailing bytes are left unread.
Pickle unpickle(const std::uint8_t* data, std::size_t size, const PickleLimits& limits = {});

}  // namespace gler::wi
