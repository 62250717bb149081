#!/usr/bin/env bash
# Downloads, here (Debian 12, apt works), the .deb files that gler's configure and the GPU build
# need, into .gpu-deps/ (ignored by git). The lent GPU machine has CUDA, CMake and cuDNN but no
# network and no apt, and most likely none of these dev packages: scripts/gpu_check.sh unpacks
# whatever lies in .gpu-deps/ under /tmp there and configures against it. Carry the folder:
#   device run, carry [".gpu-deps"], command: bash scripts/gpu_check.sh
# Nothing is installed here; rerunning replaces the folder's contents.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEST=$ROOT/.gpu-deps
# The carried tree is limited to 64 MiB in all; leave room for the sources.
LIMIT_MIB=40

# gpu_check.sh and cmake/Dependencies.cmake assume amd64 paths (x86_64-linux-gnu), as on the
# GPU machine; apt-get download fetches the native architecture.
arch=$(dpkg --print-architecture)
if [[ $arch != amd64 ]]; then
  echo "gpu_deps: this machine is $arch; the GPU machine needs amd64 packages" >&2
  exit 1
fi

# Each package whose files the build or the tests use, plus the runtime package that a -dev
# package's .so link points to. Left out on purpose:
#  - libopenblas-dev, libopenblas0: empty metapackages here (their postinst only sets the
#    alternatives links, which an unpacked tree lacks anyway: gpu_check.sh points at openblas-pthread/).
#  - libgomp1: the host compiler's own OpenMP runtime must serve the -fopenmp code it compiles;
#    an older copy on LD_LIBRARY_PATH could lack symbol versions the newer compiler uses.
#  - libdnnl-dev (oneDNN, optional in core/CMakeLists.txt): libdnnl2 needs libOpenCL.so.1 too,
#    and the GPU check does not need the CPU convolution path it speeds up.
PKGS=(
  libopenblas-pthread-dev libopenblas0-pthread libgfortran5 libquadmath0  # OpenBLAS (cblas.h, libopenblas.so)
  zlib1g-dev zlib1g                                                       # zlib (weights_import)
  libjpeg62-turbo-dev libjpeg62-turbo                                     # libjpeg (find_package(JPEG) REQUIRED)
  libsvm-dev libsvm3                                                      # libsvm (train/ensemble)
  libstb-dev libstb0                                                      # stb_image (header only)
  doctest-dev                                                             # the test framework
)

rm -rf "$DEST"
mkdir -p "$DEST"
cd "$DEST"
# APT::Sandbox::User=root: the _apt user cannot write into a root-owned folder of the checkout.
download() { apt-get -q -o APT::Sandbox::User=root download "${PKGS[@]}"; }
if ! download; then
  echo "gpu_deps: download failed; refreshing the package lists and trying once more" >&2
  apt-get -q update
  download
fi

# Names like zlib1g_1%3a1.2.13... carry '%', '~' and '+': keep to letters, digits, '.', '_' and '-'
# so that no transfer trips over them (gpu_check.sh only globs *.deb).
for f in *.deb; do
  safe=${f//[^A-Za-z0-9._-]/_}
  [[ $safe == "$f" ]] || mv -- "$f" "$safe"
done
ls -l "$DEST"/*.deb
total_kib=$(du -sk "$DEST" | cut -f1)
echo "gpu_deps: ${#PKGS[@]} packages, $(( (total_kib + 1023) / 1024 )) MiB in $DEST"
if (( total_kib > LIMIT_MIB * 1024 )); then
  echo "gpu_deps: over ${LIMIT_MIB} MiB: the working tree plus carried paths may exceed the 64 MiB limit" >&2
  exit 1
fi
echo "gpu_deps: on the GPU machine, run with carry [\".gpu-deps\"] and the command: bash scripts/gpu_check.sh"
