#include "weights_import/torch_checkpoint.h"

#include <cstring>
#include <functional>
#include <map>
#include <span>

#include "core/error.h"
#include "weights_import/byte_reader.h"
#include "weights_import/zip_reader.h"

namespace gler::wi {

using Kind = Value::Kind;

namespace {

// 0x1950a86a20f9469cfc6c, as pickle's LONG1 writes it (little-endian).
const std::string kLegacyMagic = {'\x6c', '\xfc', '\x9c', '\x46', '\xf9', '\x20', '\x6a', '\xa8', '\x50', '\x19'};
constexpr std::int64_t kLegacyProtocol = 1001;

std::string storage_dtype(const Value* type) {
  GLER_CHECK(type->kind == Kind::Global, "storage type is a " << kind_name(type->kind) << ", expected a class");
  static const std::map<std::string, std::string> names = {
      {"torch.FloatStorage", "F32"},    {"torch.DoubleStorage", "F64"}, {"torch.HalfStorage", "F16"},
      {"torch.BFloat16Storage", "BF16"}, {"torch.LongStorage", "I64"},   {"torch.IntStorage", "I32"},
      {"torch.ShortStorage", "I16"},    {"torch.CharStorage", "I8"},    {"torch.ByteStorage", "U8"},
      {"torch.BoolStorage", "BOOL"},    {"torch.UntypedStorage", "U8"}, {"torch.storage.UntypedStorage", "U8"},
      {"torch.float32", "F32"},         {"torch.float64", "F64"},       {"torch.float16", "F16"},
      {"torch.bfloat16", "BF16"},       {"torch.int64", "I64"},         {"torch.int32", "I32"},
      {"torch.int16", "I16"},           {"torch.int8", "I8"},           {"torch.uint8", "U8"},
      {"torch.bool", "BOOL"}};
  std::string type_name = type->s;
  if (type_name.rfind("torch.cuda.", 0) == 0) type_name = "torch." + type_name.substr(11);  // same bytes on disk
  auto it = names.find(type_name);
  GLER_CHECK(it != names.end(), "unsupported storage type " << type->s);
  return it->second;
}

// Legacy whole-module files also record each module class as ('module', class, file, source).
bool is_module_class_id(const Value* persistent) {
  const Value* pid = persistent->items.at(0);
  return pid->kind == Kind::Tuple && !pid->items.empty() && pid->items[0]->kind == Kind::Str &&
         pid->items[0]->s == "module";
}

// A persistent id: ('storage', type, key, location, numel[, view_metadata]).
struct StorageId {
  std::string dtype, key;
  std::int64_t numel = 0;
  std::int64_t view_offset = 0;  // legacy storage views: elements into the root storage
};

StorageId parse_storage_id(const Value* persistent) {
  const Value* pid = persistent->items.at(0);
  GLER_CHECK(pid->kind == Kind::Tuple && pid->items.size() >= 5 && pid->items[0]->kind == Kind::Str &&
                 pid->items[0]->s == "storage",
             "unexpected persistent id (expected ('storage', type, key, location, size))");
  StorageId id;
  id.dtype = storage_dtype(pid->items[1]);
  const Value* key = pid->items[2];
  GLER_CHECK(key->kind == Kind::Str || key->kind == Kind::Int, "storage key must be a string");
  id.key = key->kind == Kind::Str ? key->s : std::to_string(key->i);
  const Value* n = pid->items[4];
  GLER_CHECK(n->kind == Kind::Int && n->i >= 0, "storage '" << id.key << "' has a bad size");
  id.numel = n->i;
  if (pid->items.size() > 5 && pid->items[5]->kind == Kind::Tuple) {
    const Value* view = pid->items[5];
    GLER_CHECK(view->items.size() == 3 && view->items[1]->kind == Kind::Int && view->items[2]->kind == Kind::Int &&
                   view->items[1]->i >= 0 && view->items[2]->i >= 0,
               "storage '" << id.key << "' has a bad view");
    id.view_offset = view->items[1]->i;
    GLER_CHECK(id.view_offset <= id.numel && view->items[2]->i <= id.numel - id.view_offset,
               "storage view of '" << id.key << "' lies outside its storage");
  }
  return id;
}

// Copies a (possibly strided) tensor out of its storage, checking every index against it.
TensorData materialize(const std::string& name, const TensorRef& t, const std::string& dtype,
                       std::span<const std::uint8_t> storage, std::size_t file_size) {
  std::size_t elem = dtype_bytes(dtype);
  std::int64_t storage_numel = static_cast<std::int64_t>(storage.size() / elem);
  TensorData out;
  out.dtype = dtype;
  out.shape = t.shape;
  std::int64_t n = checked_numel(t.shape, name.c_str());
  GLER_CHECK(static_cast<std::uint64_t>(n) <= (file_size + (1u << 20)) / elem,
             name << ": tensor of shape " << shape_str(t.shape) << " is larger than the whole file");
  if (n == 0) return out;
  std::int64_t last = t.offset;
  for (std::size_t d = 0; d < t.shape.size(); ++d) {
    GLER_CHECK(t.stride[d] >= 0, name << ": negative stride");
    GLER_CHECK(t.stride[d] <= storage_numel, name << ": stride " << t.stride[d] << " exceeds the storage");
    last += (t.shape[d] - 1) * t.stride[d];
    GLER_CHECK(last < storage_numel, name << ": shape " << shape_str(t.shape) << " at offset " << t.offset
                                          << " runs past its storage of " << storage_numel << " elements");
  }
  out.data.resize(static_cast<std::size_t>(n) * elem);
  bool contiguous = true;
  std::int64_t expect = 1;
  for (std::size_t d = t.shape.size(); d-- > 0;) {
    if (t.shape[d] != 1 && t.stride[d] != expect) contiguous = false;
    expect *= t.shape[d];
  }
  const std::uint8_t* src = storage.data() + static_cast<std::size_t>(t.offset) * elem;
  if (contiguous) {
    std::memcpy(out.data.data(), src, out.data.size());
    return out;
  }
  std::vector<std::int64_t> idx(t.shape.size(), 0);
  for (std::int64_t i = 0; i < n; ++i) {
    std::int64_t off = 0;
    for (std::size_t d = 0; d < idx.size(); ++d) off += idx[d] * t.stride[d];
    std::memcpy(out.data.data() + static_cast<std::size_t>(i) * elem, src + static_cast<std::size_t>(off) * elem, elem);
    for (std::size_t d = idx.size(); d-- > 0;) {
      if (++idx[d] < t.shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

using StorageLookup = std::function<std::span<const std::uint8_t>(const StorageId&)>;

StateDict build_state_dict(const Pickle& p, const StorageLookup& lookup, std::size_t file_size) {
  StateDict sd;
  sd.format = SourceFormat::pytorch;
  for (const auto& [name, v] : collect_tensors(*p.root)) {
    if (v->kind == Kind::Array) {
      sd.add(name, from_ndarray(*v->array));
      continue;
    }
    StorageId id = parse_storage_id(v->tensor->storage);
    std::span<const std::uint8_t> bytes = lookup(id);
    std::size_t elem = dtype_bytes(id.dtype);
    bytes = bytes.subspan(static_cast<std::size_t>(id.view_offset) * elem);
    try {
      sd.add(name, materialize(name, *v->tensor, id.dtype, bytes, file_size));
    } catch (const Error& e) {
      throw Error(std::string("tensor ") + e.what());
    }
  }
  return sd;
}

StateDict read_zip(const std::uint8_t* data, std::size_t size) {
  ZipReader zip(data, size);
  const ZipEntry* pkl = nullptr;
  for (const auto& e : zip.entries()) {
    if (e.name == "data.pkl" || e.name.ends_with("/data.pkl")) {
      GLER_CHECK(!pkl, "zip checkpoint has two data.pkl entries ('" << pkl->name << "', '" << e.name << "')");
      pkl = &e;
    }
  }
  GLER_CHECK(pkl, "zip archive has no data.pkl: not a PyTorch checkpoint");
  std::string prefix = pkl->name.substr(0, pkl->name.size() - 8);
  if (const ZipEntry* bo = zip.find(prefix + "byteorder")) {
    auto order = zip.read(*bo);
    GLER_CHECK(std::string(order.begin(), order.end()) == "little", "checkpoint is big-endian; only little-endian is supported");
  }
  auto pickle_bytes = zip.read(*pkl);
  Pickle p = unpickle(pickle_bytes.data(), pickle_bytes.size());
  std::map<std::string, std::vector<std::uint8_t>> inflated;
  auto lookup = [&](const StorageId& id) -> std::span<const std::uint8_t> {
    const ZipEntry* e = zip.find(prefix + "data/" + id.key);
    GLER_CHECK(e, "storage '" << id.key << "' is missing from the archive (" << prefix << "data/" << id.key << ")");
    std::span<const std::uint8_t> bytes;
    if (e->method == 0) {
      bytes = zip.stored(*e);
    } else {
      auto it = inflated.find(id.key);
      if (it == inflated.end()) it = inflated.emplace(id.key, zip.read(*e)).first;
      bytes = it->second;
    }
    std::size_t elem = dtype_bytes(id.dtype);
    GLER_CHECK(static_cast<std::uint64_t>(id.numel) <= bytes.size() / elem,
               "storage '" << id.key << "' declares " << id.numel << " elements but holds " << bytes.size() << " bytes");
    return bytes.first(static_cast<std::size_t>(id.numel) * elem);
  };
  return build_state_dict(p, lookup, size);
}

StateDict read_legacy(const std::uint8_t* data, std::size_t size) {
  ByteReader r(data, size, "legacy checkpoint");
  auto next = [&]() {
    Pickle p = unpickle(r.here(), r.remaining());
    r.skip(p.consumed);
    return p;
  };
  Pickle magic = next();
  GLER_CHECK(magic.root->kind == Kind::BigInt && magic.root->s == kLegacyMagic,
             "not a PyTorch checkpoint (bad legacy magic number)");
  Pickle proto = next();
  GLER_CHECK(proto.root->kind == Kind::Int && proto.root->i == kLegacyProtocol,
             "unsupported legacy checkpoint protocol (expected " << kLegacyProtocol << ")");
  Pickle sys_info = next();
  const Value* little = sys_info.root->get("little_endian");
  GLER_CHECK(!little || (little->kind == Kind::Bool && little->b), "checkpoint is big-endian; only little-endian is supported");
  Pickle main = next();
  Pickle keys = next();
  GLER_CHECK(keys.root->kind == Kind::List, "legacy checkpoint: storage key list missing");

  // Each storage's dtype comes from the persistent ids that reference it.
  std::map<std::string, std::string> dtype_of;
  for (const Value& v : main.arena)
    if (v.kind == Kind::Persistent && !is_module_class_id(&v)) {
      StorageId id = parse_storage_id(&v);
      auto [it, fresh] = dtype_of.emplace(id.key, id.dtype);
      GLER_CHECK(fresh || it->second == id.dtype, "storage '" << id.key << "' is used with two dtypes");
    }
  std::map<std::string, std::span<const std::uint8_t>> storages;
  for (const Value* k : keys.root->items) {
    GLER_CHECK(k->kind == Kind::Str, "legacy checkpoint: storage keys must be strings");
    auto it = dtype_of.find(k->s);
    GLER_CHECK(it != dtype_of.end(), "legacy checkpoint: storage '" << k->s << "' is not referenced by any tensor");
    std::size_t elem = dtype_bytes(it->second);
    std::int64_t numel = r.i64();
    GLER_CHECK(numel >= 0 && static_cast<std::uint64_t>(numel) <= r.remaining() / elem,
               "legacy checkpoint: storage '" << k->s << "' declares " << numel << " elements but only "
                                              << r.remaining() << " bytes remain");
    GLER_CHECK(storages.emplace(k->s, std::span(r.take(static_cast<std::uint64_t>(numel) * elem),
                                                static_cast<std::size_t>(numel) * elem))
                   .second,
               "legacy checkpoint: storage '" << k->s << "' listed twice");
  }
  auto lookup = [&](const StorageId& id) {
    auto it = storages.find(id.key);
    GLER_CHECK(it != storages.end(), "storage '" << id.key << "' is missing from the checkpoint");
    return it->second;
  };
  return build_state_dict(main, lookup, size);
}

}  // namespace

bool is_zip_torch_checkpoint(const std::uint8_t* data, std::size_t size) { return ZipReader::looks_like_zip(data, size); }

bool is_legacy_torch_checkpoint(const std::uint8_t* data, std::size_t size) {
  // PROTO 2, then LONG1 of 10 bytes holding the magic number.
  return size >= 14 && data[0] == 0x80 && data[2] == 0x8a && data[3] == 10 &&
         std::memcmp(data + 4, kLegacyMagic.data(), 10) == 0;
}

StateDict read_torch_checkpoint(const std::uint8_t* data, std::size_t size) {
  if (is_zip_torch_checkpoint(data, size)) return read_zip(data, size);
  GLER_CHECK(is_legacy_torch_checkpoint(data, size), "not a PyTorch checkpoint (neither the zip nor the legacy format)");
  return read_legacy(data, size);
}

}  // namespace gler::wi
