#!/usr/bin/env bash
# One-step set-up: install dependencies, build, run the gradient-check suite as the first proof
# that the numeric core works on this machine, fetch the default model (face-api's expression
# weights, from npm, checksum pinned) and show gler_infer's answer for a bundled photo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh "$@"
build/bin/gler_gradcheck
status=0
bash scripts/fetch_face_expression.sh data/default || status=$?
if [ "$status" -eq 3 ]; then
  echo "setup: the default model could not be fetched (see above): gler_infer needs --model until" \
       "'bash scripts/fetch_face_expression.sh data/default' succeeds; everything else works."
  exit 0
fi
[ "$status" -eq 0 ] || exit "$status"
build/bin/gler_infer data/photos/ipazc_ivan.jpg --format csv
