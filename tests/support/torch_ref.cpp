#include "tests/support/torch_ref.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace gler::test {

namespace fs = std::filesystem;

namespace {
const char* kPrelude = R"PY(
import os, sys
import numpy as np
import torch
torch.set_num_threads(2)
_DIR = sys.argv[1]
_NP = {'f32': np.float32, 'f64': np.float64, 'i64': np.int64, 'u8': np.uint8}
_NAME = {np.dtype(np.float32): 'f32', np.dtype(np.float64): 'f64', np.dtype(np.int64): 'i64', np.dtype(np.uint8): 'u8'}
def load(name):
    with open(os.path.join(_DIR, name + '.meta')) as f:
        parts = f.read().split()
    shape = [int(p) for p in parts[1:]]
    a = np.fromfile(os.path.join(_DIR, name + '.bin'), dtype=_NP[parts[0]]).reshape(shape)
    return torch.from_numpy(a.copy())
def save(name, t):
    a = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    a = np.array(a, order='C', copy=True)  # keeps 0-d arrays 0-d (ascontiguousarray would not)
    if a.dtype == np.bool_:
        a = a.astype(np.uint8)
    a.tofile(os.path.join(_DIR, name + '.bin'))
    with open(os.path.join(_DIR, name + '.meta'), 'w') as f:
        f.write(' '.join([_NAME[a.dtype]] + [str(s) for s in a.shape]))
)PY";

DType parse_dtype(const std::string& s) {
  if (s == "f32") return DType::f32;
  if (s == "f64") return DType::f64;
  if (s == "i64") return DType::i64;
  if (s == "u8") return DType::u8;
  GLER_FAIL("unknown dtype in reference file: " << s);
}
}  // namespace

TorchRef::TorchRef() {
  std::string tmpl = (fs::temp_directory_path() / "gler_ref_XXXXXX").string();
  GLER_CHECK(mkdtemp(tmpl.data()) != nullptr, "cannot create a temporary folder");
  dir_ = tmpl;
}

TorchRef::~TorchRef() {
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void TorchRef::put(const std::string& name, const Tensor& t) {
  Tensor host = t.detach().to(Device::CPU);
  std::ofstream bin(dir_ + "/" + name + ".bin", std::ios::binary);
  bin.write(static_cast<const char*>(host.raw()), static_cast<std::streamsize>(host.nbytes()));
  std::ofstream meta(dir_ + "/" + name + ".meta");
  meta << dtype_name(host.dtype());
  for (int i = 0; i < host.ndim(); ++i) meta << ' ' << host.shape()[i];
}

void TorchRef::run(const std::string& code) {
  {
    std::ofstream py(dir_ + "/script.py");
    py << kPrelude << "\n" << code << "\n";
  }
  const std::string cmd = std::string(GLER_PYTHON) + " " + dir_ + "/script.py " + dir_ + " 2> " + dir_ + "/stderr.txt";
  const int rc = std::system(cmd.c_str());
  if (rc != 0) {
    std::ifstream err(dir_ + "/stderr.txt");
    std::stringstream ss;
    ss << err.rdbuf();
    GLER_FAIL("reference script failed (" << rc << "): " << ss.str());
  }
}

Tensor TorchRef::get(const std::string& name) const {
  std::ifstream meta(dir_ + "/" + name + ".meta");
  GLER_CHECK(meta.good(), "reference output " << name << " was not saved");
  std::string dt;
  meta >> dt;
  std::vector<std::int64_t> dims;
  std::int64_t d;
  while (meta >> d) dims.push_back(d);
  Tensor t = Tensor::empty(Shape(dims), parse_dtype(dt));
  std::ifstream bin(dir_ + "/" + name + ".bin", std::ios::binary);
  bin.read(static_cast<char*>(t.raw()), static_cast<std::streamsize>(t.nbytes()));
  GLER_CHECK(static_cast<std::size_t>(bin.gcount()) == t.nbytes(), "reference output " << name << " is truncated");
  return t;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  GLER_CHECK(a.numel() == b.numel(), "comparing " << describe(a) << " with " << describe(b));
  auto va = a.to_vector<double>(), vb = b.to_vector<double>();
  double m = 0;
  for (std::size_t i = 0; i < va.size(); ++i) m = std::max(m, std::abs(va[i] - vb[i]));
  return m;
}

double max_rel_diff(const Tensor& a, const Tensor& b, double floor) {
  GLER_CHECK(a.numel() == b.numel(), "comparing " << describe(a) << " with " << describe(b));
  auto va = a.to_vector<double>(), vb = b.to_vector<double>();
  double scale = 0;
  for (double v : vb)
    if (!std::isnan(v)) scale = std::max(scale, std::abs(v));
  const double denominator_floor = std::max(floor * scale, 1e-12);
  double m = 0;
  for (std::size_t i = 0; i < va.size(); ++i) {
    if (std::isnan(va[i]) != std::isnan(vb[i])) return INFINITY;
    if (std::isnan(va[i])) continue;
    m = std::max(m, std::abs(va[i] - vb[i]) / std::max(std::abs(vb[i]), denominator_floor));
  }
  return m;
}

}  // namespace gler::test
