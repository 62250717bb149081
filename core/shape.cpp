#include "core/shape.h"

#include "core/error.h"

namespace gler {

Shape::Shape(std::initializer_list<std::int64_t> dims) { assign(dims.begin(), dims.size()); }
Shape::Shape(const std::vector<std::int64_t>& dims) { assign(dims.data(), dims.size()); }

void Shape::assign(const std::int64_t* first, std::size_t count) {
  GLER_CHECK(count <= kMaxDims, "a tensor has at most " << kMaxDims << " dimensions, got " << count);
  for (std::size_t i = 0; i < count; ++i) {
    GLER_CHECK(first[i] >= 0, "negative dimension " << first[i] << " in a shape");
    d_[i] = first[i];
  }
  n_ = static_cast<int>(count);
}

std::int64_t Shape::numel() const { return prod(0, n_); }

std::int64_t Shape::prod(int begin, int end) const {
  std::int64_t p = 1;
  for (int i = begin; i < end; ++i) p *= d_[static_cast<std::size_t>(i)];
  return p;
}

int Shape::axis(int a) const {
  const int r = a < 0 ? a + n_ : a;
  GLER_CHECK(r >= 0 && r < n_, "axis " << a << " is out of range for shape " << str());
  return r;
}

std::string Shape::str() const {
  std::string s = "[";
  for (int i = 0; i < n_; ++i) {
    if (i) s += ", ";
    s += std::to_string(d_[static_cast<std::size_t>(i)]);
  }
  return s + "]";
}

bool Shape::operator==(const Shape& o) const {
  if (n_ != o.n_) return false;
  for (int i = 0; i < n_; ++i)
    if (d_[static_cast<std::size_t>(i)] != o.d_[static_cast<std::size_t>(i)]) return false;
  return true;
}

}  // namespace gler
