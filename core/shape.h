// A tensor shape: up to six dimensions, stored inline (no allocation on the hot path).
#pragma once
#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace gler {

class Shape {
 public:
  static constexpr int kMaxDims = 6;

  Shape() = default;
  Shape(std::initializer_list<std::int64_t> dims);
  explicit Shape(const std::vector<std::int64_t>& dims);

  int size() const { return n_; }
  std::int64_t operator[](int i) const { return d_[static_cast<std::size_t>(i)]; }
  std::int64_t& operator[](int i) { return d_[static_cast<std::size_t>(i)]; }
  std::int64_t numel() const;
  // Resolves a negative axis (Python style) and checks the range.
  int axis(int a) const;
  // Product of the dimensions in [begin, end).
  std::int64_t prod(int begin, int end) const;

  std::vector<std::int64_t> to_vector() const { return {d_.begin(), d_.begin() + n_}; }
  std::string str() const;  // "[2, 3, 4]"

  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }

 private:
  void assign(const std::int64_t* first, std::size_t count);
  std::array<std::int64_t, kMaxDims> d_{};
  int n_ = 0;
};

}  // namespace gler
