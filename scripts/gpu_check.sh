#!/usr/bin/env bash
# One prepared check of the CUDA backend on a lent GPU machine (H100/H200, CUDA toolkit, no
# network, PyTorch in a Python venv whose site-packages may hold nvidia/cudnn). Detects the card's
# architecture and cuDNN, configures and builds the GPU targets, runs `ctest -L gpu`, runs
# compute-sanitizer memcheck on one short GPU test, runs the benchmarks if they exist, trains the
# tiny Attention_C for 3 epochs on a synthetic set (gler_synth + gler_train, on the GPU), and writes
# logs plus summary.txt under $OUT (default ./gpu_out). The table of results is printed last.
# The gpu tests (tests/cuda) get GLER_DETERMINISTIC=1 from ctest: deterministic cuDNN convolutions,
# checked by test_cuda_determinism; nothing here overrides it. summary.txt lists each test's result.
# Dependencies: the machine has no apt and no network. If .gpu-deps/ holds .deb files (made here
# by scripts/gpu_deps.sh and sent with carry [".gpu-deps"]), they are unpacked under
# /tmp/gler-gpu-deps and the configure and the tests use them; otherwise only what is missing
# is reported.
# Budget: under 8 minutes in all: every stage has its own timeout and all share one deadline.
#
# Environment: OUT, CUDNN_ROOT (overrides the detection), GLER_GPU_BUILD (build dir, default
# build-gpu), GLER_BENCH_ARGS (arguments for the benchmark executables), JOBS (default 16),
# GLER_GPU_BUDGET (seconds for all stages together, default 450; later stages are skipped or cut).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${OUT:-./gpu_out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
BUILD=${GLER_GPU_BUILD:-$ROOT/build-gpu}
JOBS=${JOBS:-16}
BUDGET=${GLER_GPU_BUDGET:-450}
START=$(date +%s)
: > "$OUT/summary.txt"

declare -a STAGES=()
declare -A RESULT=() DETAIL=() SECONDS_TAKEN=()

log() { echo "[gpu_check +$(( $(date +%s) - START ))s] $*" | tee -a "$OUT/summary.txt"; }

# stage NAME TIMEOUT LOGFILE CMD...: runs CMD with a timeout, logs to $OUT/LOGFILE, records the result.
stage() {
  local name=$1 limit=$2 logfile=$3
  shift 3
  local t0 rc=0 left
  t0=$(date +%s)
  # Everything must end within BUDGET seconds of the start: later stages get what is left.
  left=$(( BUDGET - (t0 - START) ))
  if (( left < 20 )); then
    skip "$name" "out of time (budget ${BUDGET}s)"
    return 0
  fi
  (( limit > left )) && limit=$left
  STAGES+=("$name")
  log "$name: $*"
  timeout --kill-after=10 "$limit" "$@" > "$OUT/$logfile" 2>&1 || rc=$?
  SECONDS_TAKEN[$name]=$(( $(date +%s) - t0 ))
  if [[ $rc -eq 0 ]]; then
    RESULT[$name]=ok
  elif [[ $rc -eq 77 ]]; then
    RESULT[$name]="skipped (exit 77)"  # a gler test that found no GPU
  elif [[ $rc -eq 124 || $rc -eq 137 ]]; then
    RESULT[$name]="TIMEOUT (${limit}s)"
  else
    RESULT[$name]="FAILED (exit $rc)"
  fi
  DETAIL[$name]=$logfile
  log "$name: ${RESULT[$name]} in ${SECONDS_TAKEN[$name]}s (log: $logfile)"
  return 0
}

skip() {
  STAGES+=("$1")
  RESULT[$1]="skipped"
  DETAIL[$1]=$2
  SECONDS_TAKEN[$1]=0
  log "$1: skipped ($2)"
}

# shellcheck disable=SC2317  # runs from the EXIT trap
print_table() {
  {
    echo
    echo "== gpu_check summary ($(( $(date +%s) - START ))s, card: ${GPU_NAME:-unknown}, sm_${ARCH:-?}) =="
    printf '%-22s %-22s %6s  %s\n' stage result time detail
    for s in "${STAGES[@]}"; do
      printf '%-22s %-22s %5ss  %s\n' "$s" "${RESULT[$s]}" "${SECONDS_TAKEN[$s]}" "${DETAIL[$s]}"
    done
    [[ -n "${MISSING:-}" ]] && echo "missing on this machine: $MISSING"
    echo "logs: $OUT"
  } | tee -a "$OUT/summary.txt"
}
trap print_table EXIT

# ---- the card --------------------------------------------------------------------------------
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1 || log "nvidia-smi failed (see nvidia-smi.txt)"
GPU_NAME=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || true)
ARCH=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .' || true)
[[ "$ARCH" =~ ^[0-9]+$ ]] || ARCH=90
log "card: ${GPU_NAME:-unknown}, CUDA architecture $ARCH"

# ---- tools and dependencies: detect, unpack carried .debs under /tmp, never install -----------
MISSING=""
NVCC=$(command -v nvcc || true)
[[ -z "$NVCC" && -x /usr/local/cuda/bin/nvcc ]] && NVCC=/usr/local/cuda/bin/nvcc
[[ -z "$NVCC" ]] && MISSING+=" nvcc"
PATH="$(dirname "${NVCC:-/usr/local/cuda/bin/nvcc}"):$PATH"
export PATH
command -v cmake > /dev/null || MISSING+=" cmake"
SANITIZER=$(command -v compute-sanitizer || true)
[[ -z "$SANITIZER" && -n "$NVCC" && -x "$(dirname "$NVCC")/compute-sanitizer" ]] && SANITIZER="$(dirname "$NVCC")/compute-sanitizer"

# cuDNN: CUDNN_ROOT, else the pip wheel of the first Python that has it (nvidia.cudnn may be a
# namespace package whose __file__ is None: use its __path__ then), else the toolkit (cmake/Cuda.cmake).
if [[ -z "${CUDNN_ROOT:-}" ]]; then
  for py in "${VIRTUAL_ENV:-/nonexistent}/bin/python" python3 python /opt/venv/bin/python "$HOME/.venv/bin/python"; do
    command -v "$py" > /dev/null 2>&1 || continue
    dir=$("$py" -c 'import nvidia.cudnn as m, os; print(os.path.dirname(m.__file__) if m.__file__ else list(m.__path__)[0])' 2>/dev/null || true)
    if [[ -n "$dir" && -d "$dir" ]]; then
      export CUDNN_ROOT=$dir
      log "cuDNN from the Python wheel of $py: $dir"
      break
    fi
  done
fi
if [[ -n "${CUDNN_ROOT:-}" ]]; then
  # cuDNN 9 dlopens its sub-libraries (libcudnn_cnn, _ops, ...) from the library path.
  export LD_LIBRARY_PATH="$CUDNN_ROOT/lib:$CUDNN_ROOT/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
else
  log "CUDNN_ROOT not set and no Python wheel found: relying on cuDNN inside the CUDA toolkit"
fi

# Debian packages from .gpu-deps/ (scripts/gpu_deps.sh). When the folder is there they are used
# for everything they hold, even where the system has its own copy: the build then sees the same
# versions as the development machines, whatever this image holds. Unpacked fresh under /tmp,
# never into /, where they could break the image's own packages.
DEPS_PREFIX=/tmp/gler-gpu-deps
DEPS_CMAKE=()
INCLUDE_ROOTS=(/usr/include /usr/local/include /usr/include/x86_64-linux-gnu)
shopt -s nullglob
DEBS=("$ROOT"/.gpu-deps/*.deb)
shopt -u nullglob
unpack_deb() {  # unpack_deb FILE DIR: dpkg-deb, or ar + tar on a machine without dpkg
  if command -v dpkg-deb > /dev/null; then
    dpkg-deb -x "$1" "$2"
  else
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && ar x "$1")
    tar -xf "$tmp"/data.tar.* -C "$2"
    rm -rf "$tmp"
  fi
}
if (( ${#DEBS[@]} > 0 )); then
  rm -rf "$DEPS_PREFIX"
  mkdir -p "$DEPS_PREFIX"
  for deb in "${DEBS[@]}"; do unpack_deb "$deb" "$DEPS_PREFIX"; done
  # Absolute links (zlib1g-dev: libz.so -> /lib/x86_64-linux-gnu/libz.so.1.2.13) must point
  # inside the prefix, or CMake finds a dangling link and falls back to the system or libz.a.
  while IFS= read -r -d '' link; do
    ln -sfn "$DEPS_PREFIX$(readlink "$link")" "$link"
  done < <(find "$DEPS_PREFIX" -type l -lname '/*' -print0)
  DEPS_LIB=$DEPS_PREFIX/usr/lib/x86_64-linux-gnu
  # CMAKE_PREFIX_PATH is searched before the system. cblas.h is named outright because
  # Dependencies.cmake looks in the system's openblas-pthread folder before any prefix.
  # Debian's alternatives links (x86_64-linux-gnu/libopenblas.so.0, cblas.h) are made by the
  # postinst, not shipped in the .deb: both here and in Dependencies.cmake (PATH_SUFFIXES) the
  # real files under openblas-pthread/ are used.
  DEPS_CMAKE=(-DCMAKE_PREFIX_PATH="$DEPS_PREFIX/usr"
              -DGLER_CBLAS_INCLUDE="$DEPS_PREFIX/usr/include/x86_64-linux-gnu/openblas-pthread")
  # The build tree's RUNPATH finds the libraries gler links directly; OpenBLAS's own needs
  # (libgfortran5, libquadmath0) are found through LD_LIBRARY_PATH.
  export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$DEPS_LIB/openblas-pthread:$DEPS_LIB"
  INCLUDE_ROOTS=("$DEPS_PREFIX/usr/include" "$DEPS_PREFIX/usr/include/x86_64-linux-gnu" "${INCLUDE_ROOTS[@]}")
  log "unpacked ${#DEBS[@]} packages from .gpu-deps into $DEPS_PREFIX"
fi

have_header() {  # have_header NAME [SUBDIR...]: NAME in an include root, or in SUBDIR under one
  local h=$1 r s
  shift
  for r in "${INCLUDE_ROOTS[@]}"; do
    for s in "" "$@"; do
      [[ -f "$r/${s:+$s/}$h" ]] && return 0
    done
  done
  return 1
}
TESTS=ON
if ! have_header doctest/doctest.h; then
  TESTS=OFF
  MISSING+=" doctest(doctest-dev: GPU tests cannot be built)"
fi
have_header cblas.h openblas-pthread openblas || MISSING+=" OpenBLAS(libopenblas-dev)"
have_header svm.h libsvm || MISSING+=" libsvm(libsvm-dev)"
have_header stb_image.h stb || MISSING+=" stb(libstb-dev)"
have_header zlib.h || MISSING+=" zlib(zlib1g-dev)"
have_header jpeglib.h || MISSING+=" libjpeg(libjpeg62-turbo-dev)"
[[ -n "$MISSING" ]] && log "missing:$MISSING (the configure stops at the first required one; run scripts/gpu_deps.sh where apt works and carry .gpu-deps)"

# ---- configure and build ---------------------------------------------------------------------
# Ninja is on the GPU image, make perhaps not; a build folder configured before keeps its generator.
GENERATOR=()
if [[ ! -f "$BUILD/CMakeCache.txt" ]] && command -v ninja > /dev/null; then GENERATOR=(-G Ninja); fi
stage configure 120 configure.log cmake -S "$ROOT" -B "$BUILD" "${GENERATOR[@]}" -DCMAKE_BUILD_TYPE=Release -DGLER_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES="$ARCH" -DGLER_BUILD_TESTS=$TESTS ${CUDNN_ROOT:+-DCUDNN_ROOT="$CUDNN_ROOT"} \
  "${DEPS_CMAKE[@]}"
if [[ "${RESULT[configure]}" != ok ]]; then
  tail -20 "$OUT/configure.log" || true
  exit 1
fi
# Where each dependency was found: the first thing to read when a build or a test fails to link.
grep -E '^(GLER_(CBLAS_INCLUDE|OPENBLAS_LIB|SVM_INCLUDE|SVM_LIB|STB_INCLUDE|DOCTEST_INCLUDE|CUDNN_INCLUDE|CUDNN_LIB)|ZLIB_(INCLUDE_DIR|LIBRARY_RELEASE)|JPEG_(INCLUDE_DIR|LIBRARY_RELEASE)):' \
  "$BUILD/CMakeCache.txt" | tee -a "$OUT/summary.txt" || true

# Only what the GPU check needs: the core, every test labelled gpu, and the benchmarks.
TARGETS=(gler_core)
if [[ $TESTS == ON ]]; then
  while read -r t; do TARGETS+=("$t"); done < <(cd "$BUILD" && ctest -N -L gpu | sed -n 's/^ *Test *#[0-9]*: *//p')
fi
# `help` lists "... NAME" under make and "NAME: phony" under Ninja.
BENCH_TARGETS=$(cmake --build "$BUILD" --target help 2>/dev/null | sed -nE 's/^(\.\.\. )?(gler_bench[a-z_0-9]*|bench_[a-z_0-9]*)(:.*)?$/\2/p' || true)
for t in $BENCH_TARGETS; do TARGETS+=("$t"); done
TARGETS+=(gler_synth gler_train)  # the GPU training run below
stage build 300 build.log cmake --build "$BUILD" -j "$JOBS" --target "${TARGETS[@]}"

# ---- tests -----------------------------------------------------------------------------------
if [[ $TESTS == OFF ]]; then
  skip ctest-gpu "doctest missing"
elif [[ "${RESULT[build]}" != ok ]]; then
  skip ctest-gpu "build failed"
else
  stage ctest-gpu 240 ctest.log ctest --test-dir "$BUILD" -L gpu --output-on-failure --timeout 200
  grep -E "Test +#[0-9]+:|tests passed|tests failed|Skipped|\*\*\*Failed|Not Run" "$OUT/ctest.log" | tee -a "$OUT/summary.txt" || true
fi

if [[ -z "$SANITIZER" ]]; then
  skip memcheck "compute-sanitizer not found"
elif [[ ! -x "$BUILD/bin/test_cuda_memory" ]]; then
  skip memcheck "test_cuda_memory not built"
else
  stage memcheck 150 memcheck.log "$SANITIZER" --tool memcheck --error-exitcode 3 --leak-check no \
    "$BUILD/bin/test_cuda_memory"
  grep -E "ERROR SUMMARY" "$OUT/memcheck.log" | tee -a "$OUT/summary.txt" || true
fi

# ---- benchmarks ------------------------------------------------------------------------------
ran_bench=0
for exe in "$BUILD"/bin/gler_bench* "$BUILD"/bin/bench_*; do
  [[ -x "$exe" && -f "$exe" ]] || continue
  ran_bench=1
  # shellcheck disable=SC2086
  stage "$(basename "$exe")" 120 "$(basename "$exe").log" "$exe" ${GLER_BENCH_ARGS:-}
done
[[ $ran_bench == 1 ]] || skip bench "no benchmark executable was built"

# ---- a GPU training run (issue 16): the tiny Attention_C on a small synthetic set ---------------
# Its log.jsonl (per-epoch losses, accuracy, seconds) goes to $OUT for docs/PERFORMANCE.md.
if [[ -x "$BUILD/bin/gler_train" && -x "$BUILD/bin/gler_synth" ]]; then
  stage synth 60 synth.log "$BUILD/bin/gler_synth" --device cuda --no-progress --out "$OUT/synth" --train 120 --val 60 \
    --faceless 0 --align sphereface
  if [[ "${RESULT[synth]}" == ok ]]; then
    stage train-gpu 120 train_gpu.log "$BUILD/bin/gler_train" --device cuda --no-progress --config \
      "$ROOT/configs/tiny_attention_c.json" --data "$OUT/synth" --out "$OUT/train_run" --epochs 3
    cp "$OUT/train_run/log.jsonl" "$OUT/train_gpu_log.jsonl" 2> /dev/null || true
    rm -rf "$OUT/synth" "$OUT/train_run/checkpoint.safetensors"
  else
    skip train-gpu "gler_synth failed"
  fi
else
  skip train-gpu "gler_train not built"
fi

failed=0
for s in "${STAGES[@]}"; do [[ "${RESULT[$s]}" == ok || "${RESULT[$s]}" == skipped* ]] || failed=1; done
exit $failed
