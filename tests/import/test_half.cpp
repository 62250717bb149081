// f16 and bf16 as storage types: casts bit-exact against PyTorch's .half()/.bfloat16() (ties,
// subnormals, overflow, NaN), half tensors through safetensors and back, and half checkpoints
// written by torch imported with their exact bits.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/error.h"
#include "core/ops.h"
#include "tests/import/test_util.h"
#include "tests/support/torch_ref.h"
#include "weights_import/import_source.h"
#include "weights_import/safetensors.h"
#include "weights_import/tensor_data.h"

using namespace gler;
using gler::test::TorchRef;

namespace {

// Every kind of float the conversions must get right: ordinary values over the whole range,
// exact ties between two halves / two bfloat16s, the subnormal range and its boundaries,
// overflow to infinity, signed zeros, infinities and NaN.
std::vector<float> hard_values() {
  std::vector<float> v;
  for (int e = -30; e <= 17; ++e)
    for (float m : {1.0f, 1.0009765625f, 1.00048828125f, 1.00146484375f, 1.333333f, 1.5f, 1.9990234375f, 1.99951171875f})
      for (float sign : {1.0f, -1.0f}) v.push_back(sign * std::ldexp(m, e));
  for (float f : {65504.0f, 65519.996f, 65520.0f, 65536.0f, 5.9604645e-8f, 2.9802322e-8f, 2.9802326e-8f, 8.940697e-8f,
                  6.097555e-5f, 6.1035156e-5f, 1e-40f, 3.0e38f, 3.3895314e38f, 3.4028235e38f, 0.0f, -0.0f})
    v.push_back(f);
  v.push_back(std::numeric_limits<float>::infinity());
  v.push_back(-std::numeric_limits<float>::infinity());
  v.push_back(std::numeric_limits<float>::quiet_NaN());
  v.push_back(-std::numeric_limits<float>::quiet_NaN());
  std::uint32_t seed = 12345;  // and 4000 random bit patterns
  for (int i = 0; i < 4000; ++i) {
    seed = seed * 1664525u + 1013904223u;
    float f;
    std::memcpy(&f, &seed, 4);
    v.push_back(f);
  }
  return v;
}

std::vector<std::int64_t> bits_of(const Tensor& t) {
  REQUIRE(dtype_size(t.dtype()) == 2);
  std::vector<std::int64_t> out(static_cast<std::size_t>(t.numel()));
  const auto* p = static_cast<const std::uint16_t*>(t.raw());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = p[i];
  return out;
}

void check_same_floats(const Tensor& a, const Tensor& b) {
  REQUIRE(a.numel() == b.numel());
  const std::vector<float> x = a.to_vector<float>(), y = b.to_vector<float>();
  for (std::size_t i = 0; i < x.size(); ++i) {
    CAPTURE(i);
    if (std::isnan(y[i])) CHECK(std::isnan(x[i]));
    else CHECK(std::memcmp(&x[i], &y[i], 4) == 0);
  }
}

}  // namespace

TEST_CASE("f32/f64 -> f16/bf16 -> f32 casts are PyTorch's, bit for bit") {
  const std::vector<float> values = hard_values();
  const Tensor x = Tensor::from_vector(values, {static_cast<std::int64_t>(values.size())});
  TorchRef ref;
  ref.put("x", x);
  ref.put("xd", x.to(DType::f64));
  ref.run(R"(
x = load('x'); xd = load('xd')
bits = lambda t: t.view(torch.int16).to(torch.int64) & 0xFFFF
h, b = x.half(), x.bfloat16()
save('h', bits(h)); save('b', bits(b)); save('hd', bits(xd.half())); save('bd', bits(xd.bfloat16()))
save('h_back', h.float()); save('b_back', b.float())
save('h_to_b', bits(h.bfloat16())); save('b_to_h', bits(b.half()))
)");
  const Tensor h = x.to(DType::f16), b = x.to(DType::bf16);
  CHECK(h.dtype() == DType::f16);
  CHECK(bits_of(h) == ref.get("h").to_vector<std::int64_t>());
  CHECK(bits_of(b) == ref.get("b").to_vector<std::int64_t>());
  CHECK(bits_of(x.to(DType::f64).to(DType::f16)) == ref.get("hd").to_vector<std::int64_t>());
  CHECK(bits_of(x.to(DType::f64).to(DType::bf16)) == ref.get("bd").to_vector<std::int64_t>());
  check_same_floats(h.to(DType::f32), ref.get("h_back"));
  check_same_floats(b.to(DType::f32), ref.get("b_back"));
  CHECK(bits_of(h.to(DType::bf16)) == ref.get("h_to_b").to_vector<std::int64_t>());
  CHECK(bits_of(b.to(DType::f16)) == ref.get("b_to_h").to_vector<std::int64_t>());
}

TEST_CASE("half tensors are storage: kernels refuse them with a clear error, fill and copy work") {
  const Tensor h = Tensor::full({4}, 1.5, DType::f16);
  CHECK(h.to_vector<float>() == std::vector<float>{1.5f, 1.5f, 1.5f, 1.5f});
  CHECK(compute_dtype(DType::bf16) == DType::f32);
  CHECK_THROWS_WITH_AS(ops::add(h, h), doctest::Contains("f16"), Error);
  Tensor h2 = Tensor::empty({4}, DType::f16);
  h2.copy_(Tensor::full({4}, 2.0));
  CHECK(h2.to_vector<double>() == std::vector<double>{2, 2, 2, 2});
}

TEST_CASE("f16 and bf16 tensors round-trip through safetensors, and Python reads them") {
  const std::vector<float> values = hard_values();
  const Tensor x = Tensor::from_vector(values, {static_cast<std::int64_t>(values.size())});
  wi::StateDict sd;
  sd.add("h", wi::to_tensor_data(x.to(DType::f16)));
  sd.add("b", wi::to_tensor_data(x.to(DType::bf16)));
  sd.metadata["arch"] = "test";
  TorchRef ref;
  const std::string path = ref.dir() + "/half.safetensors";
  wi::write_safetensors(path, sd);
  const wi::StateDict back = wi::read_safetensors(path);
  CHECK(back.find("h")->dtype == "F16");
  CHECK(back.find("b")->dtype == "BF16");
  const Tensor h = wi::to_tensor(*back.find("h")), b = wi::to_tensor(*back.find("b"));
  CHECK(h.dtype() == DType::f16);
  CHECK(b.dtype() == DType::bf16);
  CHECK(bits_of(h) == bits_of(x.to(DType::f16)));
  CHECK(bits_of(b) == bits_of(x.to(DType::bf16)));
  ref.put("x", x);
  ref.run(std::string("import sys; sys.path.insert(0, '") + GLER_SOURCE_DIR + R"(/tests/import')
from safetensors_file import load_safetensors
t, meta = load_safetensors(')" + path + R"(')
x = load('x')
assert t['h'].dtype == torch.float16 and t['b'].dtype == torch.bfloat16, (t['h'].dtype, t['b'].dtype)
assert torch.equal(t['h'].view(torch.int16), x.half().view(torch.int16))
assert torch.equal(t['b'].view(torch.int16), x.bfloat16().view(torch.int16))
)");
}

TEST_CASE("a half checkpoint written by torch imports with its exact bits") {
  TorchRef ref;
  const std::string path = ref.dir() + "/half.pt";
  ref.run(R"(
g = torch.Generator().manual_seed(3)
x = torch.randn(5, 7, generator=g) * 100
sd = {'conv.weight': x.half(), 'fc.weight': x.bfloat16(), 'n': torch.tensor(4, dtype=torch.int32)}
torch.save(sd, ')" + path + R"(')
torch.save(sd, ')" + path + R"(.legacy', _use_new_zipfile_serialization=False)
bits = lambda t: t.view(torch.int16).to(torch.int64) & 0xFFFF
save('h', bits(sd['conv.weight'])); save('b', bits(sd['fc.weight']))
)");
  for (const std::string& file : {path, path + ".legacy"}) {
    CAPTURE(file);
    const wi::StateDict sd = wi::read_source(file);
    const Tensor h = wi::to_tensor(*sd.find("conv.weight")), b = wi::to_tensor(*sd.find("fc.weight"));
    CHECK(h.dtype() == DType::f16);
    CHECK(h.shape() == Shape{5, 7});
    CHECK(bits_of(h) == ref.get("h").to_vector<std::int64_t>());
    CHECK(b.dtype() == DType::bf16);
    CHECK(bits_of(b) == ref.get("b").to_vector<std::int64_t>());
    const Tensor n = wi::to_tensor(*sd.find("n"));
    CHECK(n.dtype() == DType::i64);
    CHECK(n.item() == 4);
  }
}
