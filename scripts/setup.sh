#!/usr/bin/env bash
# One-step set-up: install dependencies, build, then run the gradient-check suite as the first
# proof that the numeric core works on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh "$@"
build/bin/gler_gradcheck
