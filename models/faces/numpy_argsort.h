// np.argsort(values) with NumPy's default kind ('quicksort', an introsort that is not stable), as
// NumPy 1.24 runs it for float64 without AVX-512 sorting. The seed's NMS picks boxes in this order,
// so equal scores are ordered as the seed orders them.
#pragma once
#include <cstddef>
#include <vector>

namespace gler::models::faces {

std::vector<std::size_t> numpy_argsort(const std::vector<double>& values);

}  // namespace gler::models::faces
