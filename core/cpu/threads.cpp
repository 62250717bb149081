#include "core/cpu/threads.h"

#include <cblas.h>
#include <omp.h>

#include "core/error.h"

namespace gler {

void set_cpu_threads(int n) {
  GLER_CHECK(n >= 1, "the thread count must be at least 1, got " << n);
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
}

void set_cpu_threads_here(int n) {
  GLER_CHECK(n >= 1, "the thread count must be at least 1, got " << n);
  omp_set_num_threads(n);
}

int cpu_threads() { return omp_get_max_threads(); }

}  // namespace gler
