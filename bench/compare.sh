#!/usr/bin/env bash
# gler beside PyTorch and the seed's Python pipeline, in one run: every case's sides interleaved
# (round 1: A B A B ..., round 2: ...), so a change in machine load hits both; each command keeps its
# fastest round's median, and every case's ratio per round. OpenBLAS's sgemm rate (bench_conv_cpu
# --sgemm) is measured before every round and after the last; their median is the roofline.
# Prints markdown tables (docs/PERFORMANCE.md, "Reproducing").
#
# Usage: bash bench/compare.sh [--build DIR] [--threads T] [--runs R] [--warmup W] [--rounds K]
#            [--cases LIST] [--seed-mtcnn SEED/MTCNN] [--photos DIR] [--scaling [--sizes LIST]]
#   --build DIR        gler's build folder (default: build)
#   --threads T        threads of both sides (default 1): gler_bench --threads, torch.set_num_threads,
#                      OMP_NUM_THREADS and OPENBLAS_NUM_THREADS
#   --runs R, --warmup W  timed and warm-up runs of every command (default 5 and 2)
#   --rounds K         interleaved rounds (default 2)
#   --cases LIST       comma-separated, of: densenet1 densenet4 sphere15 attention_c attention_c_train
#                      pipeline (default: all; pipeline needs --seed-mtcnn)
#   --seed-mtcnn DIR   the seed's MTCNN folder (its src/ and weights; never part of this repository)
#   --photos DIR       the pipeline's photos (default: data/photos); the seed's side runs twice: its
#                      detect_faces as the seed calls it (rebuilding the nets every call) and with the
#                      nets built once (bench/mtcnn_seed.py's "seed warm")
#   --scaling          instead of the cases: attention_c's time and peak memory against the batch size
#                      (15 faces per image) and against the faces per image (batch 1), for each of
#                      --sizes (default 1,2,4,8,16,32,64)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PY=/usr/bin/python3
BUILD=build THREADS=1 RUNS=5 WARMUP=2 ROUNDS=2 SEED_MTCNN="" PHOTOS="$ROOT/data/photos" SCALING=0
CASES=densenet1,densenet4,sphere15,attention_c,attention_c_train,pipeline SIZES=1,2,4,8,16,32,64

die() { echo "error: $*" >&2; exit 2; }
while (($#)); do
  case "$1" in
    --build) BUILD=${2:?}; shift 2 ;;
    --threads) THREADS=${2:?}; shift 2 ;;
    --runs) RUNS=${2:?}; shift 2 ;;
    --warmup) WARMUP=${2:?}; shift 2 ;;
    --rounds) ROUNDS=${2:?}; shift 2 ;;
    --cases) CASES=${2:?}; shift 2 ;;
    --seed-mtcnn) SEED_MTCNN=$(cd "${2:?}" && pwd) || die "--seed-mtcnn $2: not a folder"; shift 2 ;;
    --photos) PHOTOS=$(cd "${2:?}" && pwd) || die "--photos $2: not a folder"; shift 2 ;;
    --scaling) SCALING=1; shift ;;
    --sizes) SIZES=${2:?}; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
for n in "$THREADS" "$RUNS" "$ROUNDS"; do [[ $n =~ ^[1-9][0-9]*$ ]] || die "--threads, --runs and --rounds take a positive integer, got '$n'"; done
[[ $WARMUP =~ ^[0-9]+$ ]] || die "--warmup takes an integer >= 0, got '$WARMUP'"
BIN=$(cd "$BUILD/bin" 2>/dev/null && pwd) || die "--build $BUILD: no bin/ folder (build gler_bench, gler_import, bench_conv_cpu)"
for exe in gler_bench gler_import bench_conv_cpu; do [[ -x $BIN/$exe ]] || die "$BIN/$exe is missing: build it"; done
$PY -c 'import torch, torchvision' 2>/dev/null || die "$PY cannot import torch and torchvision"

export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
RESULTS=$WORK/results.jsonl

# Rows: "label|gler_bench arguments|torch_ref.py arguments[|more torch_ref.py arguments]"; a command
# shared by rows runs once a round.
ROWS=()
common="--threads $THREADS --runs $RUNS --warmup $WARMUP"
add_row() { local IFS='|'; ROWS+=("$*"); }
if ((SCALING)); then
  IFS=, read -ra sizes <<<"$SIZES"
  for n in "${sizes[@]}"; do [[ $n =~ ^[1-9][0-9]*$ ]] || die "--sizes takes positive integers, got '$n'"; done
  # Against the batch size with 15 faces per image, then against the faces of one image.
  for shape in "${sizes[@]/%/ 15}" "${sizes[@]/#/1 }"; do
    read -r b f <<<"$shape"
    add_row "$b x $f" "--model attention_c --layout seed --batch $b --faces $f" "seed_attention_c --batch $b --faces $f" \
      "tidy_attention_c --batch $b --faces $f"
  done
else
  IFS=, read -ra cases <<<"$CASES"
  for c in "${cases[@]}"; do
    case "$c" in
      densenet1) add_row "DenseNet-161, batch 1" "--model densenet161 --batch 1" "densenet161 --batch 1" ;;
      densenet4) add_row "DenseNet-161, batch 4" "--model densenet161 --batch 4" "densenet161 --batch 4" ;;
      sphere15) add_row "sphere20a, 15 faces" "--model sphere20a --faces 15" "sphere20a --faces 15" ;;
      attention_c)
        for side in seed tidy; do
          add_row "attention_c, 1 image + 15 faces (PyTorch: $side)" "--model attention_c --layout seed --batch 1 --faces 15" \
            "${side}_attention_c --batch 1 --faces 15"
        done ;;
      attention_c_train)
        for side in seed tidy; do
          add_row "attention_c train step, 2 images + 15 faces each (PyTorch: $side)" \
            "--model attention_c --layout seed --batch 2 --faces 15 --train" "${side}_attention_c --batch 2 --faces 15 --train"
        done ;;
      pipeline)
        if [[ -z $SEED_MTCNN ]]; then
          echo "note: case pipeline skipped: it needs --seed-mtcnn SEED/MTCNN" >&2
          continue
        fi
        "$BIN/gler_import" --init attention_c --seed-compat -o "$WORK/attention_c_seed.safetensors" >/dev/null
        add_row "pipeline over $(basename "$PHOTOS") (attention_c, seed mode)" \
          "--pipeline $PHOTOS --weights $WORK/attention_c_seed.safetensors" \
          "pipeline --photos $PHOTOS --seed-mtcnn $SEED_MTCNN" "pipeline --photos $PHOTOS --seed-mtcnn $SEED_MTCNN --warm-mtcnn" ;;
      *) die "unknown case '$c' (expected densenet1 densenet4 sphere15 attention_c attention_c_train pipeline)" ;;
    esac
  done
fi
((${#ROWS[@]})) || die "no case to run"

sgemm() { "$BIN/bench_conv_cpu" --sgemm; }
# One command, one fresh process (so its peak memory is its own); its JSON line tagged with the command.
run_side() {
  local side=$1 args=$2 out
  if [[ $side == gler ]]; then
    # shellcheck disable=SC2086
    out=$("$BIN/gler_bench" $args $common --json) || die "gler_bench $args failed"
  else
    # shellcheck disable=SC2086
    out=$($PY "$HERE/torch_ref.py" $args $common) || die "torch_ref.py $args failed"
  fi
  $PY -c 'import json, sys; print(json.dumps({"side": sys.argv[1], "args": sys.argv[2], "out": json.loads(sys.argv[3])}))' \
    "$side" "$args" "$out" >>"$RESULTS"
}

# The sgemm rate before every round and after the last: the machine's limit moves with its load.
: >"$WORK/sgemm.txt"
for ((round = 1; round <= ROUNDS; ++round)); do
  sgemm >>"$WORK/sgemm.txt"
  declare -A done_this_round=()
  for row in "${ROWS[@]}"; do
    IFS='|' read -ra fields <<<"$row"
    echo "round $round/$ROUNDS: ${fields[0]}" >&2
    n=${#fields[@]}
    for ((i = 2; i <= n; ++i)); do  # the PyTorch sides (fields 2 ...), then gler (field 1)
      if ((i < n)); then side=torch args=${fields[i]}; else side=gler args=${fields[1]}; fi
      [[ -n ${done_this_round[$side $args]:-} ]] && continue
      run_side "$side" "$args"
      done_this_round[$side $args]=1
    done
  done
  unset done_this_round
done
sgemm >>"$WORK/sgemm.txt"

printf '%s\n' "${ROWS[@]}" >"$WORK/rows.txt"
$PY - "$RESULTS" "$WORK/rows.txt" "$WORK/sgemm.txt" "$THREADS" "$ROUNDS" "$RUNS" "$SCALING" <<'EOF'
import json
import re
import statistics
import sys

results, rows_file, sgemm_file, threads, rounds, runs, scaling = sys.argv[1:]
sgemm_lines = [line.strip() for line in open(sgemm_file) if line.strip()]
sgemm_start = sgemm_lines[0]
best = {}  # (side, args) -> the fastest round's JSON, with the largest peak of all rounds
per_round = {}  # (side, args) -> its median time in each round, in order
for line in open(results):
    r = json.loads(line)
    key, out = (r["side"], r["args"]), r["out"]
    per_round.setdefault(key, []).append(out["ms_per_batch"])
    prev = best.get(key)
    peak = max(out['rss_peak_bytes'], prev['rss_peak_bytes']) if prev else out['rss_peak_bytes']
    if not prev or out["ms_per_batch"] < prev["ms_per_batch"]:
        best[key] = out
    best[key]['rss_peak_bytes'] = peak
rates = [float(m.group(1)) for s in sgemm_lines for m in [re.search(r"([0-9.]+) GFLOP/s", s)] if m]
roofline = statistics.median(rates) if rates else float("nan")
kernels = m.group(1) if (m := re.search(r"\((.*)\)", sgemm_start)) else sgemm_start
if "Prescott" in sgemm_start:
    print("note: OpenBLAS did not recognise this CPU and runs its Prescott (SSE3) kernels; for a fair roofline "
          "set OPENBLAS_CORETYPE (e.g. SkylakeX, or Haswell without AVX-512) for the whole run\n")
mib = lambda b: b / 2**20  # noqa: E731
rows = [line.rstrip("\n").split("|") for line in open(rows_file) if line.strip()]
plural = "s" if threads != "1" else ""
head = f"{threads} thread{plural}, fastest of {rounds} rounds of median-of-{runs}"

pipeline = [r for r in rows if r[1].startswith("--pipeline")]
models = [r for r in rows if not r[1].startswith("--pipeline")]
if scaling == "1":
    print(f"| images x faces ({head}) | gler ms | seed-style PyTorch ms | tidy PyTorch ms | gler GFLOP/s "
          f"| gler peak MiB | seed-style peak MiB | tidy peak MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, gler, seed, tidy in models:
        g, s, t = best[("gler", gler)], best[("torch", seed)], best[("torch", tidy)]
        print(f"| {label} | {g['ms_per_batch']:.1f} | {s['ms_per_batch']:.1f} | {t['ms_per_batch']:.1f} "
              f"| {g['gflop_per_s']:.1f} | {mib(g['rss_peak_bytes']):.0f} | {mib(s['rss_peak_bytes']):.0f} "
              f"| {mib(t['rss_peak_bytes']):.0f} |")
    models = []
if models:
    print(f"| case ({head}) | PyTorch ms | gler ms | ratio | ratio per round | gler GFLOP/s | of sgemm "
          f"| PyTorch peak MiB | gler peak MiB | memory ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, gler, torch in models:
        g, t = best[("gler", gler)], best[("torch", torch)]
        mem = f"{t['rss_peak_bytes'] / g['rss_peak_bytes']:.2f}" if g['rss_peak_bytes'] else "-"
        # The two sides of a round ran next to each other: the spread of these ratios is the machine's noise.
        spread = sorted(tm / gm for tm, gm in zip(per_round[("torch", torch)], per_round[("gler", gler)]))
        print(f"| {label} | {t['ms_per_batch']:.1f} | {g['ms_per_batch']:.1f} | {t['ms_per_batch'] / g['ms_per_batch']:.2f} "
              f"| {statistics.median(spread):.2f} ({spread[0]:.2f}-{spread[-1]:.2f}) | {g['gflop_per_s']:.1f} | {g['gflop_per_s'] / roofline:.0%} "
              f"| {mib(t['rss_peak_bytes']):.0f} | {mib(g['rss_peak_bytes']):.0f} | {mem} |")
if pipeline:
    print(f"\n| pipeline ({head}) | photos | faces | ms per pass | photos/s | prepare ms | model ms | peak MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, gler, seed, warm in pipeline:
        sides = (("seed", ("torch", seed)), ("seed, MTCNN nets built once", ("torch", warm)), ("gler", ("gler", gler)))
        for name, key in sides:
            r = best[key]
            print(f"| {label}: {name} | {r['photos']} | {r['faces']} | {r['ms_per_batch']:.0f} | {r['images_per_s']:.2f} "
                  f"| {r['prepare_ms']:.0f} | {r['model_ms']:.0f} | {mib(r['rss_peak_bytes']):.0f} |")
        g = best[("gler", gler)]
        print(f"\nphotos/s, gler / seed: {g['images_per_s'] / best[('torch', seed)]['images_per_s']:.2f}; "
              f"gler / seed with its MTCNN nets built once: {g['images_per_s'] / best[('torch', warm)]['images_per_s']:.2f}")
print(f"\nratio = PyTorch time / gler time (> 1: gler faster), of the fastest rounds; ratio per round: the median, "
      f"lowest and highest ratio of one round's two medians, which ran next to each other; memory ratio = PyTorch peak / gler peak (peak: "
      f"the process's RSS at the peak of the timed runs less its RSS before the model was built); of sgemm = gler GFLOP/s / the median "
      f"OpenBLAS sgemm 2048^3 rate, measured before every round and after the last: "
      f"{', '.join(f'{r:.1f}' for r in rates)} GFLOP/s ({kernels})")
EOF
