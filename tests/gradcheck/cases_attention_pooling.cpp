// Gradient checks of attention pooling: scores and features, with partially filled samples,
// zero-face samples (all-zero weights, zero gradients), all samples empty, and one face slot.
// The checked output holds both the weights and the pooled vectors.
#include "core/ops.h"
#include "layers/attention_pooling.h"
#include "tests/gradcheck/gradcheck.h"

namespace gler::gradcheck {
namespace {

Tensor counts_of(const std::vector<std::int64_t>& c) {
  return Tensor::from_vector<std::int64_t>(c, {static_cast<std::int64_t>(c.size())});
}

Result pooling_case(const std::vector<std::int64_t>& counts, std::int64_t slots, std::int64_t dim, bool detach) {
  const std::int64_t batch = static_cast<std::int64_t>(counts.size());
  Tensor n = counts_of(counts);
  Tensor scores = random_input({batch, slots}, 1, -2.0, 2.0);
  if (detach) scores.requires_grad_(false);
  return check(
      [n, detach](const std::vector<Tensor>& in) {
        const layers::AttentionPooled out = layers::attention_pooling(in[0], n, in[1], detach);
        return ops::concat({out.weights, out.pooled}, 1);
      },
      {scores, random_input({batch, slots, dim}, 2)});
}

GLER_GRADCHECK("layers/masked_softmax") {
  Tensor n = counts_of({3, 0, 1, 4});
  return check([n](const std::vector<Tensor>& in) { return layers::masked_softmax(in[0], n); },
               {random_input({4, 4}, 1, -3.0, 3.0)});
}
GLER_GRADCHECK("layers/attention_pooling mixed counts") { return pooling_case({2, 0, 4}, 4, 5, false); }
GLER_GRADCHECK("layers/attention_pooling all empty") { return pooling_case({0, 0}, 3, 2, false); }
GLER_GRADCHECK("layers/attention_pooling one slot") { return pooling_case({1, 0, 1}, 1, 3, false); }
GLER_GRADCHECK("layers/attention_pooling detached weights") { return pooling_case({3, 1, 0}, 3, 4, true); }

}  // namespace
}  // namespace gler::gradcheck
