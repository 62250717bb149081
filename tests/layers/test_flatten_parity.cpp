// Flatten and the MTCNN H/W-swapping Flatten against PyTorch (the seed's
// x.transpose(3, 2).contiguous().view(N, -1)), outputs and gradients, with H != W.
#include <doctest/doctest.h>

#include "core/autograd.h"
#include "core/init.h"
#include "layers/flatten.h"
#include "tests/support/torch_ref.h"

using namespace gler;

TEST_CASE("Flatten and the H/W-swapping Flatten match PyTorch") {
  Generator gen(4);
  Tensor x = Tensor::empty({2, 3, 4, 5});
  uniform_(x, -1, 1, gen);
  x.requires_grad_();
  Tensor r = Tensor::empty({2, 60});
  uniform_(r, -1, 1, gen);
  layers::Flatten plain, swapped(true);
  Tensor y_plain = plain.forward(x);
  Tensor y_swapped = swapped.forward(x);
  backward(y_swapped, r);
  test::TorchRef ref;
  ref.put("x", x);
  ref.put("r", r);
  ref.run(R"PY(
x = load('x').requires_grad_()
y = x.transpose(3, 2).contiguous().view(x.size(0), -1)
y.backward(load('r'))
save('y_swapped', y)
save('gx', x.grad)
save('y_plain', torch.flatten(x, 1))
)PY");
  CHECK(y_plain.shape() == Shape{2, 60});
  CHECK(test::max_abs_diff(y_plain, ref.get("y_plain")) == 0);
  CHECK(test::max_abs_diff(y_swapped, ref.get("y_swapped")) == 0);
  CHECK(test::max_abs_diff(x.grad(), ref.get("gx")) == 0);
}

TEST_CASE("The swapped flatten puts x[n, c, h, w] at c·H·W + w·H + h (SEED_SPEC §3.1)") {
  const std::int64_t C = 2, H = 3, W = 4;
  std::vector<float> v(static_cast<std::size_t>(C * H * W));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  const auto y = layers::flatten_swap_hw(Tensor::from_vector(v, {1, C, H, W})).to_vector<float>();
  for (std::int64_t c = 0; c < C; ++c)
    for (std::int64_t h = 0; h < H; ++h)
      for (std::int64_t w = 0; w < W; ++w)
        CHECK(y[static_cast<std::size_t>(c * H * W + w * H + h)] == static_cast<float>((c * H + h) * W + w));
}
