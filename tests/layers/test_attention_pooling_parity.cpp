// Attention pooling against the seed's computation in PyTorch (f32): scores masked with -inf past
// each sample's face count, softmax over the face slots, zero weights for a sample without faces,
// then bmm(weights [B,1,F], features [B,F,D]). Weights, pooled vectors and the gradients of
// scores and features; the detached variant passes no gradient to the scores.
#include <doctest/doctest.h>

#include "core/autograd.h"
#include "core/init.h"
#include "core/ops.h"
#include "layers/attention_pooling.h"
#include "tests/support/torch_ref.h"

using namespace gler;

TEST_CASE("Attention pooling matches PyTorch, zero-face samples included") {
  const std::int64_t B = 5, F = 4, D = 6;
  const Tensor counts = Tensor::from_vector<std::int64_t>({4, 2, 0, 1, 3}, {B});
  Generator gen(21);
  auto random = [&](const Shape& s, double lo, double hi) {
    Tensor t = Tensor::empty(s);
    uniform_(t, lo, hi, gen);
    return t;
  };
  const Tensor scores0 = random({B, F}, -3, 3), features0 = random({B, F, D}, -1, 1);
  const Tensor rw = random({B, F}, -1, 1), rp = random({B, D}, -1, 1);
  test::TorchRef ref;
  ref.put("scores", scores0);
  ref.put("features", features0);
  ref.put("counts", counts);
  ref.put("rw", rw);
  ref.put("rp", rp);
  ref.run(R"PY(
s = load('scores').requires_grad_()
f = load('features').requires_grad_()
n = load('counts')
F = s.size(1)
present = torch.arange(F)[None, :] < n[:, None]
has_faces = (n > 0)[:, None]
masked = s.masked_fill(~present, float('-inf'))
# The seed zero-fills the NaN rows after the softmax; keep the reference's backward finite by
# giving empty rows finite scores before the softmax and zeroing them after it.
masked = torch.where(has_faces, masked, torch.zeros_like(masked))
w = torch.softmax(masked, 1) * has_faces
pooled = torch.bmm(w.unsqueeze(1), f).squeeze(1)
((w * load('rw')).sum() + (pooled * load('rp')).sum()).backward()
save('w', w)
save('pooled', pooled)
save('gs', s.grad)
save('gf', f.grad)
)PY");
  for (bool detach : {false, true}) {
    CAPTURE(detach);
    Tensor scores = scores0.clone().requires_grad_(), features = features0.clone().requires_grad_();
    layers::AttentionPooling pool(detach);
    const layers::AttentionPooled out = pool.forward(scores, counts, features);
    // The weights term reaches only the scores, so the features' gradient is the reference's
    // with the weights detached too.
    const Tensor pooled_term = ops::sum_all(ops::mul(out.pooled, rp));
    if (detach) {
      CHECK_FALSE(out.weights.requires_grad());
      backward(pooled_term);
      CHECK_FALSE(scores.grad().defined());
    } else {
      backward(ops::add(ops::sum_all(ops::mul(out.weights, rw)), pooled_term));
      CHECK(test::max_rel_diff(scores.grad(), ref.get("gs")) < 1e-5);
    }
    CHECK(test::max_rel_diff(out.weights, ref.get("w")) < 1e-5);
    CHECK(test::max_rel_diff(out.pooled, ref.get("pooled")) < 1e-5);
    CHECK(test::max_rel_diff(features.grad(), ref.get("gf")) < 1e-5);
  }
}
