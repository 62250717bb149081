// Tensor: a contiguous, row-major (NCHW) view of reference-counted storage on one device.
// Views (reshape, leading-dim slice, detach) share storage; `to`, `clone` copy. Operations on
// tensors live in core/ops.h (generic) and layers/ (network layers); they dispatch on device.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/shape.h"

namespace gler {

class Backend;
struct Node;

// Owns one device allocation, returned on destruction to the backend that made it (not to the
// backend of whatever device is current then). `version` counts in-place writes, so autograd can
// tell that a tensor it saved for backward was overwritten.
class Storage {
 public:
  Storage(std::size_t bytes, Backend& backend);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  std::size_t bytes() const { return bytes_; }
  Device device() const { return device_; }
  Backend& backend() const { return *backend_; }

  std::uint64_t version() const { return version_; }
  void bump_version() { ++version_; }

 private:
  Backend* backend_;
  Device device_;
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
  std::uint64_t version_ = 0;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  std::size_t offset = 0;  // bytes into storage
  Shape shape;
  DType dtype = DType::f32;
  // Autograd state: a leaf that asked for a gradient, or the output of a recorded op.
  bool requires_grad = false;
  bool retains_grad = false;
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<Node> grad_fn;
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // Uninitialised memory.
  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::CPU);
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::CPU);
  static Tensor full(const Shape& shape, double value, DType dtype = DType::f32, Device device = Device::CPU);
  // Copies host values into a new CPU tensor (converted to `dtype` when given).
  template <class T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape);
  static Tensor scalar(double value, DType dtype = DType::f32, Device device = Device::CPU);

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  int ndim() const { return impl().shape.size(); }
  std::int64_t size(int axis) const { return impl().shape[impl().shape.axis(axis)]; }
  std::int64_t numel() const { return impl().shape.numel(); }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device(); }
  std::size_t nbytes() const { return static_cast<std::size_t>(numel()) * dtype_size(dtype()); }
  Backend& backend() const { return impl().storage->backend(); }
  // In-place writes to this tensor's storage so far (see Storage).
  std::uint64_t version() const { return impl().storage->version(); }
  // Marks an in-place write; every function that writes into an existing tensor calls it.
  void bump_version() const { impl().storage->bump_version(); }

  void* raw() const { return static_cast<char*>(impl().storage->data()) + impl().offset; }
  // Typed pointer; checks dtype (any device: device pointers are only passed to kernels).
  template <class T>
  T* data() const {
    GLER_CHECK(dtype() == dtype_of<T>, "tensor holds " << dtype_name(dtype()) << ", asked for "
                                                       << dtype_name(dtype_of<T>));
    return static_cast<T*>(raw());
  }
  // Typed pointer into host memory: also checks that the tensor lives on the CPU, so a CPU kernel
  // never dereferences a device pointer.
  template <class T>
  T* host_data() const {
    GLER_CHECK(device().is_cpu(), "a CPU kernel was given " << describe_self() << " (move it with .to(Device::CPU))");
    return data<T>();
  }

  // Host copy of the values (any device), converted to T.
  template <class T>
  std::vector<T> to_vector() const;
  // The single value of a one-element tensor, as double.
  double item() const;

  // Differentiable views: same storage, new shape / leading-dim range.
  Tensor reshape(const Shape& shape) const;
  Tensor slice(std::int64_t begin, std::int64_t end) const;
  // Same storage, cut from the autograd graph.
  Tensor detach() const;

  // Copies. `to(dtype)` is differentiable for floating types.
  Tensor to(Device device) const;
  Tensor to(DType dtype) const;
  Tensor clone() const;
  // Copies src's values into this tensor (same shape, any device/dtype); not recorded.
  void copy_(const Tensor& src) const;
  void fill_(double value) const;

  // Autograd.
  bool requires_grad() const { return defined() && impl().requires_grad; }
  Tensor& requires_grad_(bool on = true);
  // Keep the gradient of a non-leaf after backward (leaves always keep theirs).
  Tensor& retain_grad();
  Tensor grad() const;
  void zero_grad() const;
  bool is_leaf() const { return impl().grad_fn == nullptr; }
  const std::shared_ptr<Node>& grad_fn() const { return impl().grad_fn; }

  std::string describe_self() const;

  TensorImpl& impl() const {
    GLER_CHECK(impl_ != nullptr, "use of an undefined tensor");
    return *impl_;
  }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& o) const { return impl_ == o.impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// Human-readable "f32[2, 3] cpu".
std::string describe(const Tensor& t);

// Throws naming both shapes when they differ.
void check_same_shape(const Tensor& a, const Tensor& b, const char* what);
void check_same_dtype(const Tensor& a, const Tensor& b, const char* what);
void check_same_device(const Tensor& a, const Tensor& b, const char* what);
// Checks an operand of a layer or fused kernel before anything touches its memory: throws
// "<op>: <role> is f32[2, 3] cpu, expected f64 on cuda:0" unless t is defined, lives on `device`
// and holds `dtype`.
void check_operand(const Tensor& t, const char* op, const char* role, Device device, DType dtype);

}  // namespace gler
