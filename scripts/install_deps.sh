#!/usr/bin/env bash
# Installs every Debian package gler builds and tests with (run as root, or through sudo).
# python3-torch/torchvision/numpy/pil/opencv only produce reference values in tests; gler never runs Python.
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  libopenblas-dev zlib1g-dev libjpeg62-turbo-dev libstb-dev libsvm-dev doctest-dev
  python3 python3-numpy python3-torch python3-torchvision python3-pil python3-opencv
  libdnnl-dev
  clang libclang-rt-14-dev libomp-14-dev
)
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${packages[@]}"
