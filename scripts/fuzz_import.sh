#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (-fsanitize=fuzzer,address,undefined): the weights_import
# readers, the safetensors model loading checks, the TF.js manifest reader and io's image decoder,
# and runs each for a bounded time, seeded with checkpoints written by make_checkpoints.py and
# seed_pickle.py when python3-torch is there, with small safetensors model files and TF.js
# manifests, and with small images written by Pillow when python3-pil is. Exit status is non-zero when a target crashes or leaks.
# Needs the Debian packages clang-14 and libclang-rt-14-dev (plus the project's build deps).
#   scripts/fuzz_import.sh [SECONDS_PER_TARGET=60]
set -euo pipefail
seconds=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${GLER_FUZZ_BUILD:-$root/build-fuzz}
cc=$(command -v clang-14 || command -v clang)
cxx=$(command -v clang++-14 || command -v clang++)

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
  -DGLER_CUDA=OFF -DGLER_FUZZ=ON -DGLER_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target fuzz_pickle fuzz_zip fuzz_checkpoint fuzz_safetensors fuzz_tfjs fuzz_image -j"$(nproc)"

corpus=$build/fuzz-corpus
mkdir -p "$corpus"/{pickle,zip,checkpoint,safetensors,tfjs,image}
python=/usr/bin/python3
if [ ! -f "$corpus/.seeded" ] && "$python" -c 'import torch, torchvision' 2>/dev/null; then
  seeds=$(mktemp -d)
  "$python" "$root/tests/import/make_checkpoints.py" "$seeds" --mtcnn "$root/data/mtcnn/mtcnn.safetensors" >/dev/null
  "$python" "$root/tests/import/make_seed_checkpoints.py" "$seeds/seed" --mini-only >/dev/null
  for f in "$seeds"/*.pt "$seeds"/*.np? "$seeds"/hostile/* "$seeds"/mtcnn/pnet.npy "$seeds"/seed/mini.pt "$seeds"/seed/hostile/*; do
    cp "$f" "$corpus/checkpoint/"
    case "$f" in *.npz|*_zip.pt) cp "$f" "$corpus/zip/" ;; esac
  done
  # Pickle seeds: the data.pkl of zip checkpoints and the pickle inside object .npy files.
  "$python" - "$seeds" "$corpus/pickle" <<'PY'
import glob, os, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
for i, f in enumerate(sorted(glob.glob(src + "/*_zip.pt") + glob.glob(src + "/hostile/*_zip.pt"))):
    try:
        with zipfile.ZipFile(f) as z:
            name = [n for n in z.namelist() if n.endswith("data.pkl")][0]
            open(os.path.join(dst, f"pkl{i}"), "wb").write(z.read(name))
    except Exception:
        pass
for f in glob.glob(src + "/hostile/*.npy") + glob.glob(src + "/mtcnn/pnet.npy"):
    d = open(f, "rb").read()
    n = int.from_bytes(d[8:10], "little")
    open(os.path.join(dst, os.path.basename(f) + ".pkl"), "wb").write(d[10 + n:])
PY
  # A small safetensors file, written by hand (the format is an 8-byte length, a JSON header, data).
  "$python" - "$corpus/checkpoint/seed.safetensors" <<'PY'
import json, struct, sys
header = {"__metadata__": {"arch": "mtcnn"}, "w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
          "n": {"dtype": "I64", "shape": [], "data_offsets": [16, 24]}}
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * (-len(h) % 8)
data = struct.pack("<4f", 1, 2, 3, 4) + struct.pack("<q", 7)
open(sys.argv[1], "wb").write(struct.pack("<Q", len(h)) + h + data)
PY
  rm -rf "$seeds"
  touch "$corpus/.seeded"
fi
# Safetensors model seeds, written by hand: a model file's header with and without an arch, names
# with the prefixes gler_import strips, and the dtypes a model holds.
if [ ! -f "$corpus/.safetensors_seeded" ]; then
  "$python" - "$corpus/safetensors" <<'PY'
import json, struct, sys
def write(name, tensors, metadata):
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for key, (dtype, shape, raw) in tensors.items():
        header[key] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    open(f"{sys.argv[1]}/{name}", "wb").write(struct.pack("<Q", len(h)) + h + data)
f32 = lambda *v: struct.pack(f"<{len(v)}f", *v)
write("local.safetensors", {"fc6.weight": ("F32", [3, 1], f32(1, 2, 3)), "fc6.bias": ("F32", [3], f32(0, 0, 0))},
      {"arch": "local", "fc6": "linear", "max_faces": "15", "seed_compat": "1"})
write("attention.safetensors", {"module.non_align_model.fc5.bias": ("F32", [2], f32(1, 2)),
                                "global_model.norm5.num_batches_tracked": ("I64", [], struct.pack("<q", 3)),
                                "global_model.denseblock1.denselayer1.norm.1.weight": ("F16", [2], b"\0<\0<")},
      {"arch": "attention_b", "emotic": "0"})
write("noarch.safetensors", {"features.conv0.weight": ("F32", [1, 1, 1, 1], f32(1)),
                             "classifier.weight": ("BF16", [1, 1], b"\x80?")}, None)
PY
  touch "$corpus/.safetensors_seeded"
fi
# TF.js seeds, written by hand: a manifest, a NUL byte, then the bytes every shard path reads (what
# fuzz_tfjs expects): each dtype and quantisation, a weight split over two shards, model.json's form,
# and face-api's face_expression names with small shapes.
if [ ! -f "$corpus/.tfjs_seeded" ]; then
  "$python" - "$corpus/tfjs" <<'PY'
import json, struct, sys
def write(name, groups, shard):
    open(f"{sys.argv[1]}/{name}", "wb").write(json.dumps(groups).encode() + b"\0" + shard)
q8 = {"dtype": "uint8", "scale": 0.0057930146946626555, "min": -0.7125408074435067}
write("dtypes", [{"paths": ["a.bin"], "weights": [
    {"name": "f", "shape": [2], "dtype": "float32"}, {"name": "i", "shape": [1], "dtype": "int32"},
    {"name": "b", "shape": [2], "dtype": "bool"}, {"name": "q8", "shape": [2, 1], "dtype": "float32", "quantization": q8},
    {"name": "q16", "shape": [1], "dtype": "int32", "quantization": {"dtype": "uint16", "scale": 0.5, "min": -3}},
    {"name": "h", "shape": [1], "dtype": "float32", "quantization": {"dtype": "float16"}}]}],
    struct.pack("<2fi", 1.5, -2, 7) + b"\1\0" + b"\0\xff" + struct.pack("<HH", 9, 0x3c00))
write("shards", [{"paths": ["a.bin", "b.bin"], "weights": [{"name": "x/filters", "shape": [1, 1, 1, 2], "dtype": "float32"}]}],
      struct.pack("<f", 3))
write("model_json", {"modelTopology": {}, "weightsManifest": [{"paths": ["w.bin"], "weights": [
    {"name": "fc/weights", "shape": [2, 1], "dtype": "float32"}, {"name": "fc/bias", "shape": [1], "dtype": "float32"}]}]},
      struct.pack("<3f", 1, 2, 3))
weights, n = [], 0
def add(name, shape):
    global n
    weights.append({"name": name, "shape": shape, "dtype": "float32", "quantization": q8})
    size = 1
    for d in shape:
        size *= d
    n += size
add("dense0/conv0/filters", [3, 3, 3, 1]); add("dense0/conv0/bias", [1])
add("dense0/conv1/depthwise_filter", [3, 3, 1, 1]); add("dense0/conv1/pointwise_filter", [1, 1, 1, 1]); add("dense0/conv1/bias", [1])
add("fc/weights", [1, 7]); add("fc/bias", [7])
write("face_expression_small", [{"paths": ["face_expression_model.bin"], "weights": weights}], bytes(range(n)))
PY
  touch "$corpus/.tfjs_seeded"
fi
# Image seeds: tiny files of every kind decode_image reads (JPEG baseline/progressive/grey/CMYK/EXIF,
# PNG/BMP/GIF/TGA in their layouts), one of them the bundled photo downscaled.
if [ ! -f "$corpus/.image_seeded" ] && "$python" -c 'import PIL, numpy' 2>/dev/null; then
  "$python" - "$root" "$corpus/image" <<'PY'
import os, sys
import numpy as np
from PIL import Image
root, dst = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(1)
def rnd(mode, w=13, h=9):
    n = {'L': 1, 'RGB': 3, 'RGBA': 4, 'LA': 2, 'CMYK': 4}[mode]
    a = rng.integers(0, 256, (h, w, n), dtype=np.uint8)
    return Image.fromarray(a[:, :, 0] if n == 1 else a, mode)
photo = Image.open(os.path.join(root, 'data/photos/ipazc_ivan.jpg')).resize((24, 24))
exif = Image.Exif()
exif[0x0112] = 6
p = rnd('RGB').quantize(16)
seeds = {
    'photo.jpg': lambda f: photo.save(f),
    'photo_progressive.jpg': lambda f: photo.save(f, progressive=True),
    'photo_exif.jpg': lambda f: photo.save(f, exif=exif.tobytes()),
    'grey.jpg': lambda f: rnd('L').save(f),
    'cmyk.jpg': lambda f: rnd('CMYK').save(f),
    'rgb444.jpg': lambda f: rnd('RGB').save(f, subsampling=0, optimize=True),
    'photo.png': lambda f: photo.save(f),
    'grey.png': lambda f: rnd('L').save(f),
    'grey_alpha.png': lambda f: rnd('LA').save(f),
    'rgba.png': lambda f: rnd('RGBA').save(f),
    'palette.png': lambda f: p.save(f),
    'palette_trns.png': lambda f: p.save(f, transparency=3),
    'grey16.png': lambda f: Image.fromarray(rng.integers(0, 65536, (5, 6), dtype=np.uint16).astype('<u2'), 'I;16').save(f),
    'rgb.bmp': lambda f: rnd('RGB').save(f),
    'palette.bmp': lambda f: p.save(f),
    'rgbx.bmp': lambda f: rnd('RGBA').save(f),
    'palette.gif': lambda f: p.save(f),
    'palette_trns.gif': lambda f: p.save(f, transparency=3),
    'rgb.tga': lambda f: rnd('RGB').save(f),
    'rgba_rle.tga': lambda f: rnd('RGBA').save(f, compression='tga_rle'),
    'grey.tga': lambda f: rnd('L').save(f),
}
for name, write in seeds.items():
    write(os.path.join(dst, name))
PY
  touch "$corpus/.image_seeded"
fi
status=0
for t in pickle zip checkpoint safetensors tfjs image; do
  echo "== fuzz_$t for ${seconds}s"
  if ! "$build/bin/fuzz_$t" "$corpus/$t" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=4096 \
       -artifact_prefix="$build/crash-$t-" -print_final_stats=1 2>"$build/fuzz_$t.log"; then
    echo "fuzz_$t FAILED (see $build/fuzz_$t.log and $build/crash-$t-*)"
    tail -40 "$build/fuzz_$t.log"
    status=1
  else
    grep -E "stat::number_of_executed_units|cov:" "$build/fuzz_$t.log" | tail -2
  fi
done
exit $status
