#!/usr/bin/python3
"""PyTorch's CPU convolution (oneDNN) beside gler's on the shapes of bench_conv_cpu.

Usage: /usr/bin/python3 bench/conv_cpu_torch.py BUILD/bin/bench_conv_cpu [--batch N] [--reps R] [--best]
                                                [--threads T]

Both run with T threads (default 2: torch.set_num_threads; OMP_NUM_THREADS and
OPENBLAS_NUM_THREADS for gler). Shapes are interleaved (PyTorch, then gler, shape by shape) so that a
change in machine load hits both sides alike; OpenBLAS's raw sgemm is measured at the start and
the end. Prints a markdown table of GFLOP/s (2*N*K*C*R*S*P*Q / time) and PyTorch time / gler
time, the sum of the times and the geometric mean of the per-shape ratios (one outlier shape moves
a sum of times, not a geometric mean), timing both sides by the median of R runs, or with --best by the fastest (robust to a
loaded machine).
"""
import argparse
import math
import os
import subprocess
import time

import torch
import torch.nn.functional as F


def time_ms(reps, best, fn):
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    return times[0] if best else times[len(times) // 2]


def torch_times(n, c, h, w, k, r, stride, pad, bias, reps, best):
    x = torch.rand(n, c, h, w) * 2 - 1
    wt = torch.rand(k, c, r, r) * 2 - 1
    b = torch.rand(k) * 2 - 1 if bias else None
    with torch.no_grad():
        y = F.conv2d(x, wt, b, stride=stride, padding=pad)
        gy = torch.rand_like(y) * 2 - 1
        common = ([k] if bias else None, [stride, stride], [pad, pad], [1, 1], False, [0, 0], 1)
        fwd = time_ms(reps, best, lambda: F.conv2d(x, wt, b, stride=stride, padding=pad))
        data = time_ms(reps, best, lambda: torch.ops.aten.convolution_backward(gy, x, wt, *common, [True, False, False]))
        filt = time_ms(reps, best, lambda: torch.ops.aten.convolution_backward(gy, x, wt, *common, [False, True, bias]))
    return fwd, data, filt, y.shape[2] * y.shape[3]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bench")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--best", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads))

    def gler(*extra):
        cmd = [args.bench, "--batch", str(args.batch), "--reps", str(args.reps), *extra]
        if args.best:
            cmd.append("--best")
        return subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout

    sgemm_before = gler("--sgemm").strip()
    shapes = [line.split("|") for line in gler("--shapes").splitlines()]
    stat = "best" if args.best else "median"
    print(f"| shape (batch {args.batch}, {args.threads} threads, {stat} of {args.reps}) | fwd gler | fwd torch | ratio "
          "| bwd data gler | torch | ratio | bwd filter gler | torch | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    totals = [0.0] * 6
    log_ratios = [[], [], []]
    for name, dims in shapes:
        n, c, h, w, k, r, stride, pad, bias = (int(v) for v in dims.split())
        t_fwd, t_data, t_filt, pq = torch_times(n, c, h, w, k, r, stride, pad, bool(bias), args.reps, args.best)
        row = [cell.strip() for cell in gler("--only", name).splitlines()[-1].strip("|").split("|")]
        g_fwd, g_data, g_filt = float(row[2]), float(row[4]), float(row[6])
        gflop = 2.0 * n * k * c * r * r * pq / 1e9
        cells = []
        for i, (g, t) in enumerate(((g_fwd, t_fwd), (g_data, t_data), (g_filt, t_filt))):
            totals[2 * i] += g
            totals[2 * i + 1] += t
            log_ratios[i].append(math.log(t / g))
            cells.append(f"{gflop / g * 1e3:.1f} | {gflop / t * 1e3:.1f} | {t / g:.2f}")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    sums = " | ".join(f"{totals[2 * i]:.0f} ms | {totals[2 * i + 1]:.0f} ms | {totals[2 * i + 1] / totals[2 * i]:.2f}"
                      for i in range(3))
    print(f"| **sum of {stat} times** | {sums} |")
    geo = " | ".join(f" | | {math.exp(sum(r) / len(r)):.2f}" for r in log_ratios)
    print(f"| **geometric mean of the per-shape ratios** | {geo} |")
    print(f"\nratio = PyTorch time / gler time (> 1: gler faster). {sgemm_before}; "
          f"at the end: {gler('--sgemm').strip()}")


if __name__ == "__main__":
    main()
