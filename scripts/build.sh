#!/usr/bin/env bash
# Configures and builds gler into build/ (Release; the CUDA backend when nvcc and cuDNN are found).
# Extra arguments go to cmake's configure step, e.g. scripts/build.sh -DGLER_CUDA=OFF
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build "$@"
cmake --build build -j"$jobs"
