#include "layers/attention_pooling.h"

#include "core/autograd.h"
#include "core/backend.h"
#include "core/ops.h"

namespace gler::layers {

Tensor masked_softmax(const Tensor& scores, const Tensor& counts) {
  GLER_CHECK(scores.ndim() == 2 && is_floating(scores.dtype()),
             "masked_softmax needs floating scores [B, F], got " << describe(scores));
  GLER_CHECK(counts.dtype() == DType::i64 && counts.ndim() == 1 && counts.numel() == scores.shape()[0],
             "masked_softmax: counts " << describe(counts) << " must be i64 [B] for scores " << scores.shape().str());
  check_same_device(scores, counts, "masked_softmax");
  // A wrong count would silently mask faces. Counts on an accelerator are checked by its kernel
  // (raised at the next synchronisation): copying them here would stall the device every forward.
  if (counts.device().is_cpu()) {
    const std::int64_t slots = scores.shape()[1];
    for (std::int64_t n : counts.to_vector<std::int64_t>())
      GLER_CHECK(n >= 0 && n <= slots, "masked_softmax: face count " << n << " outside [0, " << slots
                                                                      << "] for scores " << scores.shape().str());
  }
  Tensor w = Tensor::empty(scores.shape(), scores.dtype(), scores.device());
  scores.backend().masked_softmax(scores, counts, w);
  return record(w, "masked_softmax", {scores}, [w = w.detach()](const Tensor& g) {
    Tensor gs = Tensor::empty(g.shape(), g.dtype(), g.device());
    g.backend().masked_softmax_backward(w, g, gs);
    return std::vector<Tensor>{gs};
  });
}

AttentionPooled attention_pooling(const Tensor& scores, const Tensor& counts, const Tensor& features,
                                  bool detach_weights) {
  GLER_CHECK(features.ndim() == 3 && scores.ndim() == 2 && features.shape()[0] == scores.shape()[0] &&
                 features.shape()[1] == scores.shape()[1],
             "attention_pooling: scores " << scores.shape().str() << " do not match features [B, F, D] "
                                          << features.shape().str());
  AttentionPooled out;
  out.weights = masked_softmax(scores, counts);
  if (detach_weights) out.weights = out.weights.detach();
  const std::int64_t batch = features.shape()[0], slots = features.shape()[1], dim = features.shape()[2];
  out.pooled = ops::matmul(out.weights.reshape({batch, 1, slots}), features).reshape({batch, dim});
  return out;
}

}  // namespace gler::layers
