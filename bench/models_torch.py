#!/usr/bin/python3
"""gler_bench beside PyTorch on the same networks, shapes and thread count, in one run.

Usage: /usr/bin/python3 bench/models_torch.py BUILD/bin/gler_bench [--threads T] [--runs R] [--rounds K]

Cases: DenseNet-161 features + classifier at 224x224, batch 1 and 4 (torchvision.models.densenet161,
eval, no_grad), sphere20a on 15 faces 112x96 (the PyTorch definition the parity tests use,
tests/models/sphere_torch.py). Each round times PyTorch, then gler, case by case (interleaved, so a
change in machine load hits both); the table keeps the fastest round's median of each side.
OpenBLAS's sgemm rate is measured at the start and the end. Prints a markdown table: ms per batch,
images per second, PyTorch time / gler time (> 1: gler faster).
"""
import argparse
import json
import os
import subprocess
import sys

import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "tests", "models")]
from conv_cpu_torch import time_ms  # noqa: E402
from sphere_torch import Sphere20a  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bench")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads))
    sgemm = os.path.join(os.path.dirname(args.bench), "bench_conv_cpu")

    def sgemm_line():
        return subprocess.run([sgemm, "--sgemm"], check=True, capture_output=True, text=True, env=env).stdout.strip()

    densenet = torchvision.models.densenet161().eval()
    sphere = Sphere20a().eval()
    cases = [("DenseNet-161, batch 1", "densenet161", ["--batch", "1"], densenet, (1, 3, 224, 224)),
             ("DenseNet-161, batch 4", "densenet161", ["--batch", "4"], densenet, (4, 3, 224, 224)),
             ("sphere20a, 15 faces", "sphere20a", ["--faces", "15"], sphere, (15, 3, 112, 96))]
    best = {}
    start = sgemm_line()
    for _ in range(args.rounds):
        for name, model, extra, net, shape in cases:
            x = torch.rand(shape) * 2 - 1
            with torch.no_grad():
                net(x)  # a second warm-up run; time_ms makes the first
                t = time_ms(args.runs, False, lambda: net(x))
            out = subprocess.run([args.bench, "--model", model, *extra, "--threads", str(args.threads), "--runs",
                                  str(args.runs), "--json"], check=True, capture_output=True, text=True, env=env)
            g = json.loads(out.stdout)
            prev = best.get(name)
            best[name] = (min(t, prev[0]) if prev else t, min(g["ms_per_batch"], prev[1]) if prev else g["ms_per_batch"],
                          shape[0], g["tensor_peak_bytes"])
    end = sgemm_line()
    print(f"| case ({args.threads} thread{'s' if args.threads > 1 else ''}, fastest of {args.rounds} rounds of "
          f"median-of-{args.runs}) | PyTorch ms | gler ms | PyTorch img/s | gler img/s | ratio | gler tensor peak MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, (t, g, n, peak) in best.items():
        print(f"| {name} | {t:.1f} | {g:.1f} | {n * 1e3 / t:.2f} | {n * 1e3 / g:.2f} | {t / g:.2f} | {peak / 2**20:.0f} |")
    print(f"\nratio = PyTorch time / gler time (> 1: gler faster). {start}; at the end: {end}")


if __name__ == "__main__":
    main()
