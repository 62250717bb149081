// NumPy's aquicksort (npysort/quicksort.cpp): median-of-three partitions while a range holds more
// than 16 elements, pushing the larger side on a stack; insertion sort below that; heapsort for a
// range once the depth budget (2·floor(log2 n)) is spent. Re-implemented step for step: the
// order of equal elements depends on every swap.
#include "models/faces/numpy_argsort.h"

#include <numeric>
#include <utility>

namespace gler::models::faces {
namespace {

constexpr std::ptrdiff_t kSmallRange = 15;  // NumPy's SMALL_QUICKSORT

int floor_log2(std::size_t n) {
  int bits = 0;
  while (n >>= 1) ++bits;
  return bits;
}

// NumPy's aheapsort over idx[0, n), on a 1-based view of the range.
void heap_argsort(const std::vector<double>& v, std::size_t* idx, std::ptrdiff_t n) {
  std::size_t* a = idx - 1;
  auto sift = [&](std::ptrdiff_t i, std::ptrdiff_t size, std::size_t moving) {
    for (std::ptrdiff_t j = i << 1; j <= size;) {
      if (j < size && v[a[j]] < v[a[j + 1]]) ++j;
      if (!(v[moving] < v[a[j]])) break;
      a[i] = a[j];
      i = j;
      j += j;
    }
    a[i] = moving;
  };
  for (std::ptrdiff_t l = n >> 1; l > 0; --l) sift(l, n, a[l]);
  while (n > 1) {
    const std::size_t moving = a[n];
    a[n] = a[1];
    --n;
    sift(1, n, moving);
  }
}

}  // namespace

std::vector<std::size_t> numpy_argsort(const std::vector<double>& v) {
  std::vector<std::size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  if (order.size() < 2) return order;
  struct Range {
    std::size_t *lo, *hi;
    int depth;
  };
  std::vector<Range> stack;
  std::size_t* lo = order.data();
  std::size_t* hi = lo + order.size() - 1;
  int depth = floor_log2(order.size()) * 2;
  auto less = [&](std::size_t a, std::size_t b) { return v[a] < v[b]; };
  for (;;) {
    if (depth < 0) {
      heap_argsort(v, lo, hi - lo + 1);
    } else {
      while (hi - lo > kSmallRange) {
        std::size_t* mid = lo + ((hi - lo) >> 1);
        if (less(*mid, *lo)) std::swap(*mid, *lo);
        if (less(*hi, *mid)) std::swap(*hi, *mid);
        if (less(*mid, *lo)) std::swap(*mid, *lo);
        const double pivot = v[*mid];
        std::size_t* i = lo;
        std::size_t* j = hi - 1;
        std::swap(*mid, *j);
        for (;;) {
          do ++i;
          while (v[*i] < pivot);
          do --j;
          while (pivot < v[*j]);
          if (i >= j) break;
          std::swap(*i, *j);
        }
        std::swap(*i, *(hi - 1));
        if (i - lo < hi - i) {
          stack.push_back({i + 1, hi, --depth});
          hi = i - 1;
        } else {
          stack.push_back({lo, i - 1, --depth});
          lo = i + 1;
        }
      }
      for (std::size_t* i = lo + 1; i <= hi; ++i) {
        const std::size_t moving = *i;
        std::size_t* j = i;
        while (j > lo && v[moving] < v[*(j - 1)]) {
          *j = *(j - 1);
          --j;
        }
        *j = moving;
      }
    }
    if (stack.empty()) break;
    lo = stack.back().lo;
    hi = stack.back().hi;
    depth = stack.back().depth;
    stack.pop_back();
  }
  return order;
}

}  // namespace gler::models::faces
