#include "core/tensor.h"

#include <cstring>

#include "core/autograd.h"
#include "core/backend.h"
#include "core/ops.h"

namespace gler {

Storage::Storage(std::size_t bytes, Backend& backend)
    : backend_(&backend), device_(backend.device()), data_(backend.allocate(bytes)), bytes_(bytes) {}

Storage::~Storage() { backend_->deallocate(data_, bytes_); }

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(static_cast<std::size_t>(shape.numel()) * dtype_size(dtype), backend_for(device));
  impl->shape = shape;
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) { return full(shape, 0.0, dtype, device); }

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.fill_(value);
  return t;
}

Tensor Tensor::scalar(double value, DType dtype, Device device) { return full(Shape{}, value, dtype, device); }

template <class T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape) {
  GLER_CHECK(static_cast<std::int64_t>(values.size()) == shape.numel(),
             values.size() << " values do not fill shape " << shape.str());
  Tensor t = empty(shape, dtype_of<T>, Device::CPU);
  if (!values.empty()) std::memcpy(t.raw(), values.data(), values.size() * sizeof(T));
  return t;
}
template Tensor Tensor::from_vector(const std::vector<float>&, const Shape&);
template Tensor Tensor::from_vector(const std::vector<double>&, const Shape&);
template Tensor Tensor::from_vector(const std::vector<std::int64_t>&, const Shape&);
template Tensor Tensor::from_vector(const std::vector<std::uint8_t>&, const Shape&);

template <class T>
std::vector<T> Tensor::to_vector() const {
  Tensor host = device().is_cpu() ? *this : to(Device::CPU);
  if (host.dtype() != dtype_of<T>) host = host.detach().to(dtype_of<T>);
  const T* p = host.data<T>();
  return std::vector<T>(p, p + host.numel());
}
template std::vector<float> Tensor::to_vector() const;
template std::vector<double> Tensor::to_vector() const;
template std::vector<std::int64_t> Tensor::to_vector() const;
template std::vector<std::uint8_t> Tensor::to_vector() const;

double Tensor::item() const {
  GLER_CHECK(numel() == 1, "item() needs a one-element tensor, got shape " << shape().str());
  return to_vector<double>()[0];
}

static Tensor alias(const Tensor& t, const Shape& shape, std::size_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t.impl().storage;
  impl->offset = offset;
  impl->shape = shape;
  impl->dtype = t.dtype();
  return Tensor(std::move(impl));
}

Tensor Tensor::detach() const { return alias(*this, shape(), impl().offset); }

Tensor Tensor::reshape(const Shape& new_shape) const {
  GLER_CHECK(new_shape.numel() == numel(), "cannot reshape " << shape().str() << " to " << new_shape.str());
  const Shape old = shape();
  Tensor out = alias(*this, new_shape, impl().offset);
  return record(out, "reshape", {*this}, [old](const Tensor& g) { return std::vector<Tensor>{g.detach().reshape(old)}; });
}

Tensor Tensor::slice(std::int64_t begin, std::int64_t end) const {
  GLER_CHECK(ndim() >= 1 && begin >= 0 && begin <= end && end <= shape()[0],
             "slice [" << begin << ", " << end << ") is out of range for shape " << shape().str());
  Shape s = shape();
  s[0] = end - begin;
  const std::int64_t row = shape().prod(1, ndim());
  Tensor out = alias(*this, s, impl().offset + static_cast<std::size_t>(begin * row) * dtype_size(dtype()));
  const Shape full_shape = shape();
  return record(out, "slice", {*this}, [full_shape, begin, row](const Tensor& g) {
    Tensor gx = Tensor::zeros(full_shape, g.dtype(), g.device());
    gx.backend().copy_rows(g, 0, 0, gx, 0, begin * row, 1, g.numel(), false);
    return std::vector<Tensor>{gx};
  });
}

Tensor Tensor::to(Device target) const {
  if (target == device()) return *this;
  Tensor out = empty(shape(), dtype(), target);
  out.copy_(*this);
  return record(out, "to_device", {*this}, [source = device()](const Tensor& g) {
    return std::vector<Tensor>{g.to(source)};
  });
}

Tensor Tensor::to(DType target) const {
  if (target == dtype()) return *this;
  Tensor out = empty(shape(), target, device());
  backend().cast(*this, out);
  if (!is_floating(target) || !is_floating(dtype())) return out;
  return record(out, "to_dtype", {*this}, [source = dtype()](const Tensor& g) {
    return std::vector<Tensor>{g.detach().to(source)};
  });
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype(), device());
  out.copy_(*this);
  return record(out, "clone", {*this}, [](const Tensor& g) { return std::vector<Tensor>{g}; });
}

void Tensor::copy_(const Tensor& src) const {
  GLER_CHECK(src.numel() == numel(), "copy_: shape " << src.shape().str() << " into " << shape().str());
  if (src.dtype() != dtype()) {
    Tensor converted = empty(src.shape(), dtype(), src.device());
    src.backend().cast(src, converted);
    copy_(converted);
    return;
  }
  const std::size_t n = nbytes();
  if (n == 0) return;
  bump_version();
  if (src.device().is_cpu() && device().is_cpu()) {
    std::memcpy(raw(), src.raw(), n);
  } else if (src.device().is_cpu()) {
    backend().copy_from_host(raw(), src.raw(), n);
  } else if (device().is_cpu()) {
    src.backend().copy_to_host(raw(), src.raw(), n);
  } else if (src.device() == device()) {
    backend().copy_device(raw(), src.raw(), n);
  } else {
    // Between two accelerators: through the host, which orders the two devices' streams.
    copy_(src.detach().to(Device::CPU));
  }
}

void Tensor::fill_(double value) const {
  bump_version();
  Tensor self = *this;
  backend().fill(self, value);
}

Tensor& Tensor::requires_grad_(bool on) {
  GLER_CHECK(!on || is_floating(dtype()), "only floating tensors can require a gradient, got " << describe(*this));
  impl().requires_grad = on;
  return *this;
}

Tensor& Tensor::retain_grad() {
  impl().retains_grad = true;
  return *this;
}

Tensor Tensor::grad() const { return impl().grad ? Tensor(impl().grad) : Tensor(); }

void Tensor::zero_grad() const { impl().grad.reset(); }

std::string describe(const Tensor& t) {
  if (!t.defined()) return "undefined tensor";
  return std::string(dtype_name(t.dtype())) + t.shape().str() + " " + device_name(t.device());
}

std::string Tensor::describe_self() const { return describe(*this); }

void check_operand(const Tensor& t, const char* op, const char* role, Device device, DType dtype) {
  GLER_CHECK(t.defined(), op << ": " << role << " is undefined");
  GLER_CHECK(t.device() == device && t.dtype() == dtype, op << ": " << role << " is " << describe(t) << ", expected "
                                                            << dtype_name(dtype) << " on " << device_name(device));
}

void check_same_shape(const Tensor& a, const Tensor& b, const char* what) {
  GLER_CHECK(a.shape() == b.shape(), what << ": shape mismatch " << a.shape().str() << " vs " << b.shape().str());
}

void check_same_dtype(const Tensor& a, const Tensor& b, const char* what) {
  GLER_CHECK(a.dtype() == b.dtype(), what << ": dtype mismatch " << describe(a) << " vs " << describe(b));
}

void check_same_device(const Tensor& a, const Tensor& b, const char* what) {
  GLER_CHECK(a.device() == b.device(), what << ": device mismatch " << describe(a) << " vs " << describe(b));
}

}  // namespace gler
