#!/usr/bin/env bash
# Installs every Debian package gler builds and tests with (run as root, or through sudo).
# python3-torch/torchvision/numpy/pil/opencv/skimage only produce reference values in tests; gler never runs Python.
# npm fetches the default model's weights (scripts/fetch_face_expression.sh); node runs face-api for its tests.
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  libopenblas-dev zlib1g-dev libjpeg62-turbo-dev libstb-dev libsvm-dev doctest-dev
  python3 python3-numpy python3-torch python3-torchvision python3-pil python3-opencv python3-skimage
  libdnnl-dev
  clang libclang-rt-14-dev libomp-14-dev
)
# Debian's nodejs and npm, unless npm is already here (NodeSource's nodejs bundles npm and conflicts
# with Debian's npm package).
if ! command -v npm >/dev/null; then packages+=(nodejs npm); fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${packages[@]}"
