#include "layers/cross_entropy.h"

#include "core/ops.h"

namespace gler::layers {

void check_logits_and_labels(const Tensor& logits, const Tensor& labels, const char* what) {
  GLER_CHECK(is_floating(logits.dtype()), what << " needs floating logits, got " << describe(logits));
  GLER_CHECK(labels.dtype() == DType::i64, what << " needs i64 labels, got " << describe(labels));
  GLER_CHECK(
      logits.ndim() == 2 && labels.ndim() == 1 && labels.size(0) == logits.size(0),
      what << " needs logits [B, C] and labels [B], got " << logits.shape().str() << " and " << labels.shape().str());
  check_same_device(logits, labels, what);
}

Tensor cross_entropy(const Tensor& logits, const Tensor& labels) {
  check_logits_and_labels(logits, labels, "cross_entropy");
  // Label range is checked by the gather kernel.
  return ops::neg(ops::mean_all(ops::gather(ops::log_softmax(logits, 1), labels, 1)));
}

}  // namespace gler::layers
