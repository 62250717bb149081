#!/usr/bin/env bash
# One prepared check of the CUDA backend on a lent GPU machine (H100/H200, CUDA toolkit, no
# network, PyTorch in a Python venv whose site-packages may hold nvidia/cudnn). Detects the card's
# architecture and cuDNN, configures and builds the GPU targets, runs `ctest -L gpu`, runs
# compute-sanitizer memcheck on one short GPU test, runs the benchmarks if they exist, and writes
# logs plus summary.txt under $OUT (default ./gpu_out). The table of results is printed last.
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

# ---- tools and dependencies: detect and report, never install --------------------------------
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

have_header() {  # have_header NAME DIR...
  local h=$1 d
  shift
  for d in "$@" /usr/include /usr/local/include /usr/include/x86_64-linux-gnu; do
    [[ -f "$d/$h" ]] && return 0
  done
  return 1
}
TESTS=ON
if ! have_header doctest/doctest.h; then
  TESTS=OFF
  MISSING+=" doctest(doctest-dev: GPU tests cannot be built)"
fi
have_header cblas.h /usr/include/x86_64-linux-gnu/openblas-pthread /usr/include/openblas || MISSING+=" OpenBLAS(libopenblas-dev)"
have_header svm.h /usr/include/libsvm || MISSING+=" libsvm(libsvm-dev)"
have_header stb_image.h /usr/include/stb || MISSING+=" stb(libstb-dev)"
have_header zlib.h || MISSING+=" zlib(zlib1g-dev)"
have_header jpeglib.h || MISSING+=" libjpeg(libjpeg62-turbo-dev)"
[[ -n "$MISSING" ]] && log "missing:$MISSING (the configure stops at the first required one)"

# ---- configure and build ---------------------------------------------------------------------
stage configure 120 configure.log cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DGLER_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES="$ARCH" -DGLER_BUILD_TESTS=$TESTS ${CUDNN_ROOT:+-DCUDNN_ROOT="$CUDNN_ROOT"}
if [[ "${RESULT[configure]}" != ok ]]; then
  tail -20 "$OUT/configure.log" || true
  exit 1
fi

# Only what the GPU check needs: the core, every test labelled gpu, and the benchmarks.
TARGETS=(gler_core)
if [[ $TESTS == ON ]]; then
  while read -r t; do TARGETS+=("$t"); done < <(cd "$BUILD" && ctest -N -L gpu | sed -n 's/^ *Test *#[0-9]*: *//p')
fi
BENCH_TARGETS=$(cmake --build "$BUILD" --target help 2>/dev/null | sed -n 's/^\.\.\. \(gler_bench[a-z_0-9]*\|bench_[a-z_0-9]*\).*/\1/p' || true)
for t in $BENCH_TARGETS; do TARGETS+=("$t"); done
stage build 300 build.log cmake --build "$BUILD" -j "$JOBS" --target "${TARGETS[@]}"

# ---- tests -----------------------------------------------------------------------------------
if [[ $TESTS == OFF ]]; then
  skip ctest-gpu "doctest missing"
elif [[ "${RESULT[build]}" != ok ]]; then
  skip ctest-gpu "build failed"
else
  stage ctest-gpu 240 ctest.log ctest --test-dir "$BUILD" -L gpu --output-on-failure --timeout 200
  grep -E "tests passed|tests failed|Skipped|\*\*\*Failed|Not Run" "$OUT/ctest.log" | tee -a "$OUT/summary.txt" || true
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

failed=0
for s in "${STAGES[@]}"; do [[ "${RESULT[$s]}" == ok || "${RESULT[$s]}" == skipped* ]] || failed=1; done
exit $failed
