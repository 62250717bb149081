"""Writes the reference checkpoints the import tests read, and a manifest of what they hold.

usage: make_checkpoints.py OUT_DIR [--full] [--mtcnn MTCNN.safetensors]

For every file F it writes F.manifest: one line per tensor, "name dtype shape crc32", where name
is what gler_import should call it after clean-up (no `module.`, torchvision >= 0.3 DenseNet names,
`align_model`), dtype the safetensors name, shape comma-separated, crc32 of the C-order bytes.
Hostile and broken files go to OUT_DIR/hostile/. --mtcnn FILE writes the weights in FILE (the bundled
data/mtcnn/mtcnn.safetensors) as the seed's OUT_DIR/mtcnn/{pnet,rnet,onet}.npy and
OUT_DIR/mtcnn.manifest, as NumPy reads them back. Run by Debian's /usr/bin/python3 (python3-torch).
"""
import collections
import io
import os
import pickle
import pickletools
import re
import struct
import sys
import zipfile
import zlib

import numpy as np
import torch
import torch.nn as nn
import torchvision

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16",
          torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
          torch.bool: "BOOL"}


def canonical(name):
    if name.startswith("module."):
        name = name[len("module."):]
    if name.startswith("non_align_model."):
        name = name[len("non_"):]
    return re.sub(r"denselayer(\d+)\.(norm|relu|conv)\.([12])\.", r"denselayer\1.\2\3.", name)


def tensor_bytes(t):
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def write_manifest(path, state, rename=canonical):
    with open(path + ".manifest", "w") as f:
        for name, t in state.items():
            shape = ",".join(str(d) for d in t.shape)
            f.write(f"{rename(name)} {DTYPES[t.dtype]} {shape} {zlib.crc32(tensor_bytes(t)) & 0xffffffff}\n")


def save(obj, path, legacy, state):
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
    write_manifest(path, state)


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.PReLU(4))
        self.head = nn.Linear(16, 5)
        self.register_buffer("scale", torch.arange(5, dtype=torch.float64))
        self.unused = None


# sphere20a (clcarwin/sphereface_pytorch) with the seed's fc6 = Linear(512, 3).
class sphere20a(nn.Module):
    def __init__(self, classes=3):
        super().__init__()
        def unit(i, k, cin, cout, stride=1):
            setattr(self, f"conv{i}_{k}", nn.Conv2d(cin, cout, 3, stride, 1))
            setattr(self, f"relu{i}_{k}", nn.PReLU(cout))
        for i, units, cin, cout in ((1, 1, 3, 64), (2, 2, 64, 128), (3, 4, 128, 256), (4, 1, 256, 512)):
            unit(i, 1, cin, cout, 2)
            for k in range(2, 2 + 2 * units):
                unit(i, k, cout, cout)
        self.fc5 = nn.Linear(512 * 7 * 6, 512)
        self.fc6 = nn.Linear(512, classes)


# The seed's LSoftmaxLinear: weight (in, out) without bias, plus the attributes its pickles carry
# (NumPy float64 coefficients, range objects, a list of signs, a float divisor).
class LSoftmaxLinear(nn.Module):
    def __init__(self, input_features, output_features, margin):
        super().__init__()
        self.input_dim, self.output_dim, self.margin = input_features, output_features, margin
        self.beta, self.beta_min, self.scale = 0, 0, 0.99
        self.divisor = np.pi / margin
        self.coeffs = np.array([1.0, 6.0, 1.0])
        self.cos_powers = range(margin, -1, -2)
        self.sin2_powers = range(len(self.cos_powers))
        self.signs = [1, -1, 1]
        self.weight = nn.Parameter(torch.randn(input_features, output_features))


# A torchvision <= 0.2.1 style dense layer (modules named 'norm.1', 'conv.1') inside a wrapper
# that names its face CNN non_align_model, as the released fusion checkpoints are said to.
class FaceAttention(nn.Module):
    def __init__(self):
        super().__init__()
        layer = nn.Module()  # torch >= 1.0 refuses dots in add_module; 0.2.1 used them
        layer._modules["norm.1"] = nn.BatchNorm2d(3)
        layer._modules["relu.1"] = nn.ReLU(inplace=True)
        layer._modules["conv.1"] = nn.Conv2d(3, 2, 1, bias=False)
        self.global_model = nn.Sequential(collections.OrderedDict([("denselayer1", layer)]))
        self.non_align_model = nn.Sequential(collections.OrderedDict([("fc6", LSoftmaxLinear(4, 3, 4))]))
        self.non_align_model_dropout = nn.Dropout(0.5)


def old_densenet_names(state):
    return collections.OrderedDict(
        (re.sub(r"denselayer(\d+)\.(norm|relu|conv)([12])\.", r"denselayer\1.\2.\3.", k), v) for k, v in state.items())


def small_files(out):
    torch.manual_seed(0)
    m = Small()
    m.features[1].running_mean.uniform_()
    sd = m.state_dict()
    for legacy in (False, True):
        kind = "legacy" if legacy else "zip"
        save(sd, f"{out}/small_sd_{kind}.pt", legacy, sd)
        save(m, f"{out}/small_module_{kind}.pt", legacy, sd)
        dp = nn.DataParallel(m)
        save(dp, f"{out}/small_dp_module_{kind}.pt", legacy, dp.state_dict())
        save({"state_dict": dp.state_dict(), "epoch": 3}, f"{out}/small_wrapped_{kind}.pt", legacy, dp.state_dict())

    torch.manual_seed(3)
    fa = nn.DataParallel(FaceAttention())
    for legacy in (False, True):
        save(fa, f"{out}/seedlike_dp_module_{'legacy' if legacy else 'zip'}.pt", legacy, fa.state_dict())

    # GPU-trained legacy files (the seed's) name torch.cuda.*Storage; the bytes are the same.
    legacy = open(f"{out}/small_dp_module_legacy.pt", "rb").read()
    cuda = legacy.replace(b"ctorch\nFloatStorage\n", b"ctorch.cuda\nFloatStorage\n")
    cuda = cuda.replace(b"ctorch\nDoubleStorage\n", b"ctorch.cuda\nDoubleStorage\n")
    cuda = cuda.replace(b"ctorch\nLongStorage\n", b"ctorch.cuda\nLongStorage\n")
    assert cuda.count(b"torch.cuda") == 3
    open(f"{out}/small_dp_module_cuda_legacy.pt", "wb").write(cuda)
    write_manifest(f"{out}/small_dp_module_cuda_legacy.pt", dp.state_dict())

    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    tensors = collections.OrderedDict([
        ("f32", torch.randn(3, 4)), ("f64", torch.randn(5, dtype=torch.float64)),
        ("f16", torch.randn(2, 3).half()), ("bf16", torch.randn(7).bfloat16()),
        ("i64", torch.tensor([-(2 ** 62), -1, 0, 2 ** 62])), ("i32", torch.tensor([-5, 7], dtype=torch.int32)),
        ("i16", torch.tensor([-300, 300], dtype=torch.int16)), ("i8", torch.tensor([-128, 127], dtype=torch.int8)),
        ("u8", torch.tensor([0, 255], dtype=torch.uint8)), ("bool", torch.tensor([True, False, True])),
        ("scalar", torch.tensor(3.5)), ("empty", torch.zeros(0, 3)),
        ("transposed", base.t()), ("row_view", base[2]), ("col_view", base[:, 1]),
        ("expanded", torch.tensor([1.0, 2.0]).expand(3, 2)), ("base", base),
    ])
    for legacy in (False, True):
        kind = "legacy" if legacy else "zip"
        save(tensors, f"{out}/dtypes_{kind}.pt", legacy, tensors)

    # NumPy: a plain array, an npz, and a pickled dict like the MTCNN weights.
    arr = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.save(f"{out}/plain.npy", arr)
    np.savez(f"{out}/stored.npz", a=arr, b=np.array([1, 2, 3], dtype=np.int64), s=np.array(["ab", "cde"]))
    np.savez_compressed(f"{out}/deflated.npz", a=arr, b=np.array([1.5, 2.5], dtype=np.float64),
                        big=np.random.RandomState(0).randn(300, 200).astype(np.float32))
    be = np.arange(6, dtype=">f8").reshape(2, 3)
    np.save(f"{out}/bigendian.npy", be)


def sphere_module():
    torch.manual_seed(1)
    return sphere20a()


def full_files(out):
    torch.manual_seed(2)
    d = torchvision.models.densenet161(num_classes=3)
    for m in d.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_()
            m.running_var.uniform_(0.5, 1.5)
    dp = nn.DataParallel(d)
    save(dp, f"{out}/densenet161_dp_module_legacy.pt", True, dp.state_dict())
    old = old_densenet_names(dp.state_dict())
    save(old, f"{out}/densenet161_old_names_sd_zip.pt", False, old)
    s = nn.DataParallel(sphere_module())
    save(s, f"{out}/sphere20a_dp_module_legacy.pt", True, s.state_dict())
    save(s.state_dict(), f"{out}/sphere20a_sd_zip.pt", False, s.state_dict())


# ---- hostile and broken inputs ------------------------------------------------------------------

class Evil:
    def __init__(self, fn, arg):
        self.fn, self.arg = fn, arg

    def __reduce__(self):
        return (self.fn, (self.arg,))


def legacy_header():
    b = io.BytesIO()
    for obj in (0x1950a86a20f9469cfc6c, 1001, {"protocol_version": 1001, "little_endian": True}):
        pickle.dump(obj, b, protocol=2)
    return b.getvalue()


def replace_member(src, dst, member, data):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            zout.writestr(info, data if info.filename.endswith(member) else zin.read(info.filename))


def npy_object(payload):
    header = b"{'descr': '|O', 'fortran_order': False, 'shape': (), }"
    header += b" " * (63 - len(header) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + payload


def hostile_files(out):
    h = f"{out}/hostile"
    os.makedirs(h, exist_ok=True)
    import builtins
    system = pickle.dumps(Evil(os.system, "touch " + h + "/pwned"), protocol=2)
    evalp = pickle.dumps(Evil(builtins.eval, "1+1"), protocol=4)
    open(f"{h}/system_legacy.pt", "wb").write(legacy_header() + system)
    replace_member(f"{out}/small_sd_zip.pt", f"{h}/system_zip.pt", "data.pkl", system)
    replace_member(f"{out}/small_sd_zip.pt", f"{h}/eval_zip.pt", "data.pkl", evalp)
    open(f"{h}/system.npy", "wb").write(npy_object(system))
    # Deep nesting: 200000 nested lists, then 100000 nested dicts (as a state dict).
    n = 200000
    open(f"{h}/deep_lists.npy", "wb").write(npy_object(b"\x80\x02" + b"(" * n + b"]" + b"l" * n + b"."))
    n = 100000
    nested = b"\x80\x02" + b"}\x8c\x01a" * n + b"}" + b"s" * n + b"."
    open(f"{h}/deep_dicts.npy", "wb").write(npy_object(nested))
    # Huge declared sizes.
    t = torch.zeros(4)
    buf = io.BytesIO()
    torch.save({"w": t}, buf)
    with zipfile.ZipFile(buf) as z:
        pkl = z.read([n for n in z.namelist() if n.endswith("data.pkl")][0])
    huge = pkl.replace(b"K\x04\x85", b"\x8a\x06\x00\x00\x00\x00\x00\x01\x85")  # size (4,) -> (2**40,)
    assert huge != pkl
    replace_member(f"{out}/small_sd_zip.pt", f"{h}/huge_tensor_zip.pt", "data.pkl", huge)
    open(f"{h}/huge_unicode.npy", "wb").write(npy_object(b"\x80\x04\x8d" + struct.pack("<Q", 1 << 62) + b"abc."))
    header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }".ljust(127) + b"\n"
    open(f"{h}/huge_npy.npy", "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + b"\0" * 64)
    open(f"{h}/huge_header.safetensors", "wb").write(struct.pack("<Q", 1 << 60) + b"{}")
    st = b'{"w":{"dtype":"F32","shape":[1000000000000],"data_offsets":[0,4]}}'
    open(f"{h}/huge_shape.safetensors", "wb").write(struct.pack("<Q", len(st)) + st + b"\0" * 4)
    legacy = open(f"{out}/small_sd_legacy.pt", "rb").read()
    # The first storage's element count follows the storage-key list; make it enormous.
    p = io.BytesIO(legacy)
    for _ in range(5):
        for _op in pickletools.genops(p):
            pass
    at = p.tell()
    open(f"{h}/huge_storage_legacy.pt", "wb").write(legacy[:at] + struct.pack("<q", 1 << 60) + legacy[at + 8:])
    # Zip with overlapping entries and with entries outside the file.
    z = bytearray(open(f"{out}/small_sd_zip.pt", "rb").read())
    cd = z.rindex(b"PK\x01\x02")  # last central entry: point its local header at the first entry
    overlap = bytearray(z)
    overlap[cd + 42:cd + 46] = struct.pack("<I", 0)
    open(f"{h}/overlap_zip.pt", "wb").write(overlap)
    outside = bytearray(z)
    outside[cd + 42:cd + 46] = struct.pack("<I", 0xFFFFFFF0)
    open(f"{h}/outside_zip.pt", "wb").write(outside)
    bomb = bytearray(open(f"{out}/deflated.npz", "rb").read())
    cd = bomb.index(b"PK\x01\x02")
    bomb[cd + 24:cd + 28] = struct.pack("<I", 0xFFFFFFF0)  # uncompressed size
    open(f"{h}/bomb.npz", "wb").write(bomb)
    open(f"{h}/garbage.pt", "wb").write(os.urandom(4096))
    open(f"{h}/empty.pt", "wb").write(b"")


def mtcnn_npy(out, src):
    """Writes the bundled MTCNN weights back as the seed's pnet/rnet/onet.npy (a pickled dict of
    arrays in a 0-d object array, pickle protocol 2, as the originals are) and a manifest of what
    NumPy reads from them."""
    from safetensors_file import load_safetensors
    tensors, _ = load_safetensors(src)
    os.makedirs(f"{out}/mtcnn", exist_ok=True)
    state = collections.OrderedDict()
    for net in ("pnet", "rnet", "onet"):
        weights = {k[len(net) + 1:]: t.numpy() for k, t in tensors.items() if k.startswith(net + ".")}
        holder = np.empty((), dtype=object)
        holder[()] = weights
        with open(f"{out}/mtcnn/{net}.npy", "wb") as f:
            np.lib.format.write_array_header_1_0(f, {"descr": "|O", "fortran_order": False, "shape": ()})
            pickle.dump(holder, f, protocol=2)
        read = np.load(f"{out}/mtcnn/{net}.npy", allow_pickle=True)[()]
        state.update((f"{net}.{k}", torch.from_numpy(v)) for k, v in read.items())
    write_manifest(f"{out}/mtcnn", state)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    small_files(out)
    hostile_files(out)
    if "--full" in sys.argv:
        full_files(out)
    if "--mtcnn" in sys.argv:
        mtcnn_npy(out, sys.argv[sys.argv.index("--mtcnn") + 1])


if __name__ == "__main__":
    main()
