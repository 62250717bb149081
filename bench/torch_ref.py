#!/usr/bin/python3
"""The work of gler_bench, done by PyTorch: one case per run, printed as gler_bench --json prints it.

Usage: /usr/bin/python3 bench/torch_ref.py CASE [--batch N] [--faces F] [--train] [--threads T]
           [--warmup W] [--runs R] [--layout sphereface|seed] [--flops]
       /usr/bin/python3 bench/torch_ref.py pipeline --photos DIR --seed-mtcnn SEED/MTCNN [--batch N]
           [--warm-mtcnn] [--threads T] [--warmup W] [--runs R]

CASE:
  densenet161, densenet121   torchvision's, features + classifier (3 classes, as gler_bench's), 224x224
  sphere20a                  tests/models/sphere_torch.py on F faces (112x96; --layout seed: 96x112)
  pnet, rnet, onet           tests/models/mtcnn_torch.py at gler_bench's input sizes
  seed_ARCH                  a GLER model as the seed writes it (tests/models/seed_models.py, seed_compat,
                             its loop over the images' face slots): ARCH one of global local average
                             attention_a attention_b attention_c attention_b_emotic attention_c_emotic;
                             B images with F filled face slots each (96x112 faces, the seed's layout)
  tidy_attention_c           the same attention_c (same modules and parameters), batched: every face of the
                             batch through sphere20a in one call, a masked softmax over the slots
  pipeline                   the seed's whole pipeline over every photo of DIR (see seed_pipeline below)

Timing: W warm-up runs (default 2), then the median and the minimum of R timed runs (default 10) of
a forward in eval mode under torch.no_grad(), or with --train a forward and backward in train mode
(the sum of the output for the networks, the cross-entropy of the logits against fixed labels for
the GLER models; no optimiser step), as gler_bench times its own. peak_bytes: the growth of this
process's RSS at its peak over the timed runs (VmHWM after resetting it through /proc/self/clear_refs,
as gler_bench measures), so run one case per process; rss_peak_bytes: that peak less the RSS after
the imports, before anything was built (weights, inputs and working memory). gflop: 2 x the multiply-accumulates of every
Conv2d, Linear and L-Softmax x·W of one forward, counted with forward hooks; with --train, plus
twice those of the layers whose weights got a gradient. --flops prints the counts only, untimed.
"""
import argparse
import io
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
import torchvision.transforms as T
from PIL import Image

try:
    import cv2
except ImportError:  # only the pipeline case needs it
    cv2 = None

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
sys.path[:0] = [HERE, os.path.join(ROOT, "tests", "models"), os.path.join(ROOT, "tests", "pipeline")]
import mtcnn_seed  # noqa: E402
import seed_e2e  # noqa: E402
import seed_models  # noqa: E402
from mtcnn_torch import ONet, PNet, RNet  # noqa: E402
from sphere_torch import Sphere20a  # noqa: E402

GLER_ARCHS = ("global", "local", "average", "attention_a", "attention_b", "attention_c", "attention_b_emotic",
              "attention_c_emotic")
IMAGE = (3, 224, 224)
RSS_AT_START = 0  # after the imports, before anything is built: rss_peak_bytes counts from it


def status_bytes(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def time_calls(call, warmup, runs):
    """(median ms, min ms, peak RSS growth in bytes) of `runs` calls after `warmup` ones."""
    for _ in range(warmup):
        call()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = status_bytes("VmRSS")
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        call()
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    high = status_bytes("VmHWM")
    return times[len(times) // 2], times[0], max(0, high - before), max(0, high - RSS_AT_START)  # gler_bench's median


# ---------------------------------------------------------------------------------------------- models

class TidyAttentionC(seed_models.FaceAttentionC):
    """attention_c (seed_compat: detached weights, zero weights for an image without faces) batched:
    one sphere20a call on all B*F face slots, a masked softmax over each image's real slots."""

    def forward(self, image, face, numberFaces, labels=None, return_attention=False):
        if self.emotic:
            g = self.global_fc_main_dropout(self.global_model(image))
        else:
            g = self.global_fc_main_dropout(self.global_fc_main(seed_models.seed_pooled(self.global_model(image))))
        batch, slots = face.shape[:2]
        faces = self.align_model_dropout(self.align_model(face.flatten(0, 1))).view(batch, slots, -1)
        scores = self.attentionfc2(self.attentionfc1_dropout(self.attentionfc1(faces))).view(batch, slots)
        counts = torch.as_tensor(numberFaces).clamp(max=slots)
        empty = torch.arange(slots)[None, :] >= counts[:, None]
        weights = F.softmax(scores.masked_fill(empty, float("-inf")), dim=1)
        weights = torch.where(empty, torch.zeros_like(weights), weights)  # an image without faces: all 0, not NaN
        if self.seed_compat:
            weights = weights.detach()
        attended = torch.bmm(weights.unsqueeze(1), faces).squeeze(1)
        out = self.global_fc3_debug(torch.cat((self.bn_debug_face(attended), self.bn_debug_global(g)), dim=1))
        return (out, weights) if return_attention else out


def tidy_attention_c():
    seed = seed_models.attention_c(seed_compat=True)
    tidy = TidyAttentionC(seed.global_model, seed.align_model, seed_compat=True)
    tidy.load_state_dict(seed.state_dict())
    return tidy


def gler_model(arch):
    emotic = arch.endswith("_emotic")
    return seed_models.build(arch[:-len("_emotic")] if emotic else arch, seed_compat=True, emotic=emotic)


def make_case(case, batch, faces, seed_layout):
    """(module, inputs -> output, loss of the output, images per batch)."""
    total = lambda y: y.sum()  # noqa: E731
    sphere_faces = (3, 96, 112) if seed_layout else (3, 112, 96)
    if case in ("densenet161", "densenet121"):
        net = getattr(torchvision.models, case)(num_classes=3)
        x = torch.rand(batch, *IMAGE) * 2 - 1
        return net, lambda: net(x), total, batch
    if case == "sphere20a":
        net = Sphere20a()
        x = torch.rand(faces, *sphere_faces) * 2 - 1
        return net, lambda: net(x)[1], total, faces
    if case in ("pnet", "rnet", "onet"):
        net, size = {"pnet": (PNet, (288, 384)), "rnet": (RNet, (24, 24)), "onet": (ONet, (48, 48))}[case]
        net = net()
        x = torch.rand(batch, 3, *size) * 2 - 1
        return net, lambda: net(x)[0], total, batch
    if case == "tidy_attention_c" or (case.startswith("seed_") and case[5:] in GLER_ARCHS):
        net = tidy_attention_c() if case == "tidy_attention_c" else gler_model(case[5:])
        images = torch.rand(batch, *IMAGE) * 2 - 1
        face = torch.rand(batch, faces, 3, 96, 112) * 2 - 1
        counts = [faces] * batch
        features = torch.rand(batch, faces, 256) * 2 - 1
        labels = torch.arange(batch) % 3
        return (net, lambda: seed_models.run(net, images, face, counts, features)[0],
                lambda y: F.cross_entropy(y, labels), batch)
    sys.exit(f"error: unknown case '{case}' (see --help)")


def flop_hooks(net):
    """Hooks counting each Conv2d / Linear / L-Softmax call: ({module: flops}, hook handles)."""
    counts, handles = {}, []

    def hook(module, inputs, output):
        x = inputs[0]
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
        else:
            k = x.shape[-1]
        counts[module] = counts.get(module, 0) + 2 * output.numel() * k

    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)) or type(m).__name__ in ("LSoftmaxLinear", "LSoftmaxEval"):
            handles.append(m.register_forward_hook(hook))
    return counts, handles


def bench_model(args):
    torch.manual_seed(0)
    net, forward, loss, images = make_case(args.case, args.batch, args.faces, args.layout == "seed")
    counts, handles = flop_hooks(net)
    net.train(args.train)
    if args.train:
        net.zero_grad()
        loss(forward()).backward()
        trained = sum(f for m, f in counts.items() if m.weight.grad is not None)
        gflop = (sum(counts.values()) + 2 * trained) * 1e-9
    else:
        with torch.no_grad():
            forward()
        gflop = sum(counts.values()) * 1e-9
    for h in handles:
        h.remove()
    out = {"model": args.case, "batch": images, "train": args.train, "gflop": gflop}
    if args.flops:
        return out

    def step():
        if args.train:
            net.zero_grad()
            loss(forward()).backward()
        else:
            with torch.no_grad():
                forward()

    ms, ms_min, peak, rss_peak = time_calls(step, args.warmup, args.runs)
    out.update(ms_per_batch=ms, ms_min=ms_min, images_per_s=images * 1e3 / ms, peak_bytes=peak, rss_peak_bytes=rss_peak,
               gflop_per_s=gflop * 1e3 / ms)
    return out


# -------------------------------------------------------------------------------------------- pipeline

def seed_align(rgb, boxes, landmarks):
    """The seed's crops and eye-based alignment of one photo's faces (SEED_SPEC §3.7-3.8), written from
    the spec: Pillow's crop of each float box (re-cropped one pixel up and left when its height equals
    the previous crop's), landmarks relative to the unrounded corner, a rotation and scale that put the
    eyes level 44.8 px apart with their midpoint at (56, 28.8) of a 112x96 canvas, cv2's bicubic
    warpAffine. No face at all when any relative landmark coordinate is exactly 0 (the seed's
    `all() == [0]` test). Returns RGB uint8 arrays."""
    steps, previous = [], None
    for box, lm in zip(boxes, landmarks):
        x1, y1, x2, y2 = (float(v) for v in box[:4])
        xs = np.asarray(lm[:5], dtype=np.float32) - x1
        ys = np.asarray(lm[5:10], dtype=np.float32) - y1
        height = round(y2) - round(y1)
        if height == previous:
            x1, y1 = x1 - 1, y1 - 1
            xs, ys = xs + 1, ys + 1
        previous = round(y2) - round(y1)
        steps.append(((x1, y1, x2, y2), xs, ys))
    if any((xs == 0).any() or (ys == 0).any() for _, xs, ys in steps):
        return []
    aligned = []
    for crop_box, xs, ys in steps:
        crop = np.asarray(rgb.crop(crop_box))
        dx, dy = xs[1] - xs[0], ys[1] - ys[0]
        angle = float(np.degrees(np.arctan2(dy, dx)))
        scale = 44.8 / float(np.sqrt(float(dx) ** 2 + float(dy) ** 2))
        centre = (float((xs[0] + xs[1]) / 2), float((ys[0] + ys[1]) / 2))
        m = cv2.getRotationMatrix2D(centre, angle, scale)
        m[0, 2] += 56 - centre[0]
        m[1, 2] += 96 * 0.3 - centre[1]
        aligned.append(cv2.warpAffine(crop, m, (112, 96), flags=cv2.INTER_CUBIC))
    return aligned


def seed_pipeline(args):
    """Per photo: PIL decode; the seed's detect_faces (as the seed calls it, rebuilding its nets, or
    with --warm-mtcnn built once, under no_grad); seed_align; each crop saved as JPEG (quality 75, as
    the seed's aligner saved them; here to memory) and read back with Resize((96, 112)) + ToTensor as
    its loaders read them, up to 15 faces; the global input as its savers made it (seed_e2e.seed_global);
    then seed_models' attention_c on --batch photos at a time and the arg-max label."""
    if cv2 is None:
        sys.exit("error: the pipeline case needs OpenCV's Python module (cv2) for the seed's warpAffine")
    photos = sorted(os.path.join(dp, f) for dp, _, fs in os.walk(args.photos) for f in fs
                    if f.lower().endswith((".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tga")))
    if not photos:
        sys.exit(f"error: no images found under {args.photos}")
    photos = [os.path.abspath(p) for p in photos]
    detector = mtcnn_seed.load_seed(os.path.abspath(args.seed_mtcnn))
    detect = mtcnn_seed.warm_detect(detector) if args.warm_mtcnn else detector.detect_faces
    torch.manual_seed(0)
    model = seed_models.attention_c(seed_compat=True).eval()
    to_face = T.Compose([T.Resize((96, 112)), T.ToTensor()])
    stage = {"prepare": [], "model": [], "faces": 0}

    def prepare(path):
        rgb = Image.open(path).convert("RGB")
        boxes, landmarks = detect(rgb)
        faces = torch.zeros(seed_e2e.MAX_FACES, 3, 96, 112)
        aligned = seed_align(rgb, boxes, landmarks)[:seed_e2e.MAX_FACES]
        for i, a in enumerate(aligned):
            buf = io.BytesIO()
            Image.fromarray(a).save(buf, format="JPEG", quality=75)
            buf.seek(0)
            faces[i] = to_face(Image.open(buf))
        return seed_e2e.seed_global(path), faces, len(aligned)

    def one_pass():
        prepare_ms = model_ms = 0.0
        faces_used = 0
        for start in range(0, len(photos), args.batch):
            t0 = time.perf_counter()
            samples = [prepare(p) for p in photos[start:start + args.batch]]
            t1 = time.perf_counter()
            with torch.no_grad():
                logits = model(torch.stack([s[0] for s in samples]), torch.stack([s[1] for s in samples]),
                               [s[2] for s in samples])
                logits.argmax(1).tolist()
            prepare_ms += (t1 - t0) * 1e3
            model_ms += (time.perf_counter() - t1) * 1e3
            faces_used += sum(s[2] for s in samples)
        stage["prepare"].append(prepare_ms)
        stage["model"].append(model_ms)
        stage["faces"] = faces_used

    ms, ms_min, peak, rss_peak = time_calls(one_pass, args.warmup, args.runs)
    timed = lambda v: statistics.median(v[-args.runs:])  # noqa: E731
    return {"model": "pipeline", "arch": "attention_c", "batch": len(photos), "photos": len(photos),
            "faces": stage["faces"], "train": False, "ms_per_batch": ms, "ms_min": ms_min,
            "images_per_s": len(photos) * 1e3 / ms, "peak_bytes": peak, "rss_peak_bytes": rss_peak, "prepare_ms": timed(stage["prepare"]),
            "model_ms": timed(stage["model"])}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("case")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--faces", type=int, default=15)
    ap.add_argument("--train", action="store_true")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--layout", choices=("sphereface", "seed"), default="sphereface")
    ap.add_argument("--flops", action="store_true")
    ap.add_argument("--photos")
    ap.add_argument("--seed-mtcnn")
    ap.add_argument("--warm-mtcnn", action="store_true")
    args = ap.parse_args()
    global RSS_AT_START
    RSS_AT_START = status_bytes("VmRSS")
    if args.batch < 1 or args.faces < 1 or args.runs < 1 or args.warmup < 0:
        ap.error("--batch, --faces and --runs must be at least 1, --warmup at least 0")
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.case == "pipeline":
        if not (args.photos and args.seed_mtcnn):
            ap.error("pipeline needs --photos DIR and --seed-mtcnn SEED/MTCNN")
        out = seed_pipeline(args)
    else:
        out = bench_model(args)
    out.update(device="cpu", threads=torch.get_num_threads(), runs=args.runs, torch=torch.__version__)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
