// Errors that kernels find but cannot throw: an index out of range in gather or scatter_add, a face
// count outside [0, F] in masked_softmax. Reading a flag back after each such launch would stall
// the host on every op; instead the kernel sets its check's flag in pinned host memory mapped into
// the device, and the error is raised, naming the op, at the next point where the backend waits
// for its stream anyway (synchronize, copy_to_host), which then reads the flag without a copy.
// Debug builds and GLER_CHECK_INDICES=1 check right after each launch instead, so that the error
// points at the op that caused it.
#pragma once
#include <cstdint>

#include <cuda_runtime.h>

namespace gler::cuda {

enum class DeferredCheck : int { gather_index, scatter_add_index, masked_softmax_count };

// The flag of `check` for kernels of device `ordinal`, which must be current (the flags are made
// on first use). A kernel stores 1 into it when it meets the error; nothing else reads it.
int* deferred_flag(int ordinal, DeferredCheck check);

// Raises every error flagged for device `ordinal` since the last check, and clears the flags.
// Call right after waiting for the device's stream: kernels still running when it is called set
// their flags for a later check.
void check_deferred_errors(int ordinal);

// After an op launched a kernel with `check`'s flag: in debug builds or with GLER_CHECK_INDICES=1,
// waits for `stream` and raises that error with the valid range [0, bound) (indices) or
// [0, bound] (face counts); otherwise does nothing.
void check_eagerly(int ordinal, cudaStream_t stream, DeferredCheck check, std::int64_t bound);

}  // namespace gler::cuda
