#!/usr/bin/python3
"""gler's MTCNN detection beside the seed's own Python MTCNN on the same photos, in one run.

Usage: /usr/bin/python3 bench/mtcnn_seed.py BUILD/bin/gler_bench --seed-mtcnn SEED/MTCNN
           [--threads T] [--runs R] [--rounds K] PHOTO...

SEED/MTCNN is the MTCNN folder of a checkout of the seed (vlgiitr/Group-Level-Emotion-Recognition,
MIT), whose src/ holds detect_faces and the .npy weights; nothing of it is part of gler. Its code is
imported as it is; only np.load is given allow_pickle=True, which NumPy >= 1.16.3 needs for the
seed's pickled weight files.

Three timings per photo, each the median of R calls on a photo decoded once beforehand:
  seed       detect_faces(image) exactly as the seed calls it: it rebuilds the three nets and reloads
             their weights on every call, and its Variable(volatile=True) no longer disables autograd
  seed, warm the same pipeline with the nets built once and under torch.no_grad(): the seed's
             algorithm at its best in PyTorch
  gler       gler_bench --model mtcnn --image PHOTO
Rounds interleave the three (a change in machine load hits all); the table keeps each side's
fastest round. OpenBLAS's sgemm rate is measured at the start and the end.
"""
import argparse
import warnings
import functools
import json
import os
import subprocess
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from conv_cpu_torch import time_ms  # noqa: E402


def load_seed(seed_mtcnn):
    warnings.filterwarnings("ignore")  # the seed's volatile=True and implicit softmax dim, on every call
    np.load = functools.partial(np.load, allow_pickle=True)
    os.chdir(seed_mtcnn)  # the seed loads its weights from the relative path src/weights/
    sys.path.insert(0, seed_mtcnn)
    from src import detector  # noqa: E402
    return detector


def warm_detect(detector):
    nets = (detector.PNet(), detector.RNet(), detector.ONet())
    nets[2].eval()
    # detect_faces builds its nets by calling the module's PNet/RNet/ONet: hand it the built ones.

    def detect(image):
        saved = detector.PNet, detector.RNet, detector.ONet
        detector.PNet, detector.RNet, detector.ONet = (lambda: nets[0]), (lambda: nets[1]), (lambda: nets[2])
        try:
            with torch.no_grad():
                return detector.detect_faces(image)
        finally:
            detector.PNet, detector.RNet, detector.ONet = saved

    return detect


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bench")
    ap.add_argument("photos", nargs="+")
    ap.add_argument("--seed-mtcnn", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    bench = os.path.abspath(args.bench)
    photos = [os.path.abspath(p) for p in args.photos]
    torch.set_num_threads(args.threads)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads))
    sgemm = os.path.join(os.path.dirname(bench), "bench_conv_cpu")

    def sgemm_line():
        return subprocess.run([sgemm, "--sgemm"], check=True, capture_output=True, text=True, env=env).stdout.strip()

    detector = load_seed(os.path.abspath(args.seed_mtcnn))
    warm = warm_detect(detector)
    images = {p: Image.open(p).convert("RGB") for p in photos}
    best = {}
    start = sgemm_line()
    for _ in range(args.rounds):
        for p in photos:
            image = images[p]
            boxes, _ = warm(image)
            seed = time_ms(args.runs, False, lambda: detector.detect_faces(image))
            seed_warm = time_ms(args.runs, False, lambda: warm(image))
            out = subprocess.run([bench, "--model", "mtcnn", "--image", p, "--threads", str(args.threads),
                                  "--runs", str(args.runs), "--json"], check=True, capture_output=True, text=True,
                                 env=env)
            g = json.loads(out.stdout)["ms_per_batch"]
            prev = best.get(p)
            now = (seed, seed_warm, g)
            best[p] = tuple(min(a, b) for a, b in zip(prev, now)) if prev else now
            best[p + "#faces"] = len(boxes)
    end = sgemm_line()
    print(f"| photo ({args.threads} thread{'s' if args.threads > 1 else ''}, fastest of {args.rounds} rounds of "
          f"median-of-{args.runs}) | size | faces | seed ms | seed warm ms | gler ms | seed / gler | "
          f"seed warm / gler |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for p in photos:
        seed, seed_warm, g = best[p]
        w, h = images[p].size
        print(f"| {os.path.basename(p)} | {w}x{h} | {best[p + '#faces']} | {seed:.1f} | {seed_warm:.1f} | {g:.1f} | "
              f"{seed / g:.1f} | {seed_warm / g:.1f} |")
    print(f"\nratios > 1: gler faster. {start}; at the end: {end}")


if __name__ == "__main__":
    main()
