// Reference values from PyTorch (Debian's python3-torch, run as a subprocess): tests put their
// inputs, run a few lines of Python against them and read the outputs back.
#pragma once
#include <string>

#include "core/tensor.h"

namespace gler::test {

class TorchRef {
 public:
  TorchRef();  // a fresh temporary folder
  ~TorchRef();
  TorchRef(const TorchRef&) = delete;
  TorchRef& operator=(const TorchRef&) = delete;

  // Saved as raw little-endian data plus a small text header.
  void put(const std::string& name, const Tensor& t);
  // Runs `code` after a prelude defining `torch`, `np`, `load(name)` -> torch.Tensor and
  // `save(name, tensor_or_array)`. Throws with Python's stderr when it fails.
  void run(const std::string& code);
  Tensor get(const std::string& name) const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

// Max over elements of |a-b| / max(|b|, floor * max|b|, 1e-12) (host copies, f64): relative
// error, except that entries far below the tensor's scale are measured against that scale
// (they are dominated by rounding in cancellations, in PyTorch as here).
double max_rel_diff(const Tensor& a, const Tensor& b, double floor = 1e-2);
double max_abs_diff(const Tensor& a, const Tensor& b);

}  // namespace gler::test
