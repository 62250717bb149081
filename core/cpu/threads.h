// How many threads the CPU backend's kernels use (OpenMP loops and OpenBLAS together). Both
// libraries keep this as process-wide state of their own; this is the one place gler sets it.
#pragma once

namespace gler {

// n >= 1; throws otherwise.
void set_cpu_threads(int n);
// Only the OpenMP loops started from the calling thread (OpenMP keeps the count per thread;
// OpenBLAS's is process-wide and stays): for worker threads beside a main thread that keeps all cores.
void set_cpu_threads_here(int n);
int cpu_threads();

}  // namespace gler
