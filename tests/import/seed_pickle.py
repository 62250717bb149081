"""Writes torch.nn module trees the way torch 0.4's `torch.save(model)` wrote them.

torch >= 1.6 no longer writes this layout, and even its legacy writer pickles modules with the
attributes and reducers of today's torch. The seed's checkpoints (SEED_SPEC section 6) were written
by torch 0.4 on Python 3 from GPU modules; this module rebuilds such files byte for byte in layout:

  * the legacy container: pickles of the magic number 0x1950a86a20f9469cfc6c, the protocol
    version 1001 and the sys_info dict, then the object pickle, then the sorted list of storage
    keys, then for every key its element count (int64, little-endian) and its raw bytes;
  * everything pickled at protocol 2 with Python 3 names mapped to Python 2 ones, as
    `pickle.Pickler(f, protocol=2)` does (`range` is written as `__builtin__ xrange`);
  * a storage is the persistent id ('storage', type, key, location, numel, None): the type is
    normalised to the CPU class (`torch.FloatStorage`) even for a GPU storage, the location says
    'cuda:N', the key is str() of the storage's C address (keys sort as strings, so the data
    order is not the tensor order);
  * the first time a module class is met it is the persistent id ('module', class, source file,
    source); later it is a memoised GLOBAL;
  * a module is NEWOBJ of its class with no arguments, then BUILD with its __dict__: _backend (the
    REDUCE of torch.nn.backends.thnn._get_thnn_function_backend), _parameters, _buffers,
    _backward_hooks, _forward_hooks, _forward_pre_hooks, _modules, training, then the layer's own
    attributes (PReLU sets num_parameters before Module.__init__, so it comes first);
  * a tensor is torch._utils._rebuild_tensor_v2(storage, offset, tuple(size), stride,
    requires_grad, _backward_hooks), the hooks being None unless a hook was ever registered;
  * a parameter is torch.nn.parameter.Parameter(<the tensor's own reduction>, requires_grad): 0.4's
    Parameter.__reduce_ex__ returned (Parameter, (super(Parameter, self), requires_grad)), and
    pickling the super object runs Tensor.__reduce_ex__;
  * a state dict written by 0.4.1 is an OrderedDict whose _metadata attribute (per-module versions)
    comes as BUILD state.

Options cover what the seed's files may hold: DataParallel or bare modules, 0.4.0 (no BatchNorm
num_batches_tracked, no _metadata) or 0.4.1, cuda:N or cpu locations, storage classes named with
or without the torch.cuda module, tensor hooks None or an OrderedDict, and sizes written as
torch.Size (NEWOBJ of a tuple subclass, or its REDUCE) instead of plain tuples.

Seed classes declare `seed_class = (module, name)` (e.g. ('__main__', 'sphere20a')) and
`seed_attrs`, their own attribute names in __dict__ order; torch.nn classes are known here.
Run by Debian's /usr/bin/python3 (python3-torch 1.13).
"""
import collections
import os
import pickle
import random
import struct

import torch
import torch.nn as nn

MAGIC_NUMBER = 0x1950a86a20f9469cfc6c
PROTOCOL_VERSION = 1001
STORAGE_TYPES = {torch.float32: "FloatStorage", torch.float64: "DoubleStorage", torch.float16: "HalfStorage",
                 torch.int64: "LongStorage", torch.int32: "IntStorage", torch.int16: "ShortStorage",
                 torch.int8: "CharStorage", torch.uint8: "ByteStorage"}


class Global:
    """A class or function written as GLOBAL module/name; one object per name, so the memo
    shares it the way it shares a real class."""
    _made = {}

    def __new__(cls, module, name, module_class=False):
        key = (module, name)
        if key not in cls._made:
            g = super().__new__(cls)
            g.module, g.name, g.module_class = module, name, module_class
            cls._made[key] = g
        return cls._made[key]


class Backend:
    """The shared thnn backend object every 0.4 module points at."""


BACKEND = Backend()


class Module04:
    """A module as 0.4 pickled it: NEWOBJ of its class, then BUILD with its __dict__ (`state`)."""

    def __init__(self, cls, state):
        self.cls, self.state = cls, state


class Storage04:
    """A storage: written as a persistent id in the pickle, its bytes after the key list."""

    def __init__(self, dtype, key, location, data, cuda_types):
        self.dtype, self.key, self.location, self.data, self.cuda_types = dtype, key, location, data, cuda_types


class Size04:
    """A torch.Size where 0.4 wrote a plain tuple; `how` is "newobj" or "reduce"."""

    def __init__(self, dims, how):
        self.dims, self.how = tuple(dims), how


class Tensor04:
    """torch._utils._rebuild_tensor_v2(storage, 0, size, stride, requires_grad, hooks)."""

    def __init__(self, storage, size, stride, requires_grad, hooks):
        self.storage, self.size, self.stride, self.requires_grad, self.hooks = storage, size, stride, requires_grad, hooks


class Parameter04:
    """torch.nn.parameter.Parameter(<tensor reduction>, requires_grad)."""

    def __init__(self, tensor, requires_grad):
        self.tensor, self.requires_grad = tensor, requires_grad


def _layer_attrs(m):
    """(attributes set before Module.__init__, attributes after it) of a torch.nn layer, in 0.4."""
    if hasattr(m, "seed_attrs"):
        return [], [(a, getattr(m, a)) for a in m.seed_attrs]
    if isinstance(m, nn.Conv2d):
        names = ["in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "transposed",
                 "output_padding", "groups"]
        return [], [(a, getattr(m, a)) for a in names]
    if isinstance(m, nn.Linear):
        return [], [("in_features", m.in_features), ("out_features", m.out_features)]
    if isinstance(m, nn.modules.batchnorm._BatchNorm):
        names = ["num_features", "eps", "momentum", "affine", "track_running_stats"]
        return [], [(a, getattr(m, a)) for a in names]
    if isinstance(m, nn.PReLU):
        return [("num_parameters", m.num_parameters)], []
    if isinstance(m, nn.ReLU):  # 0.4's ReLU is a Threshold(0, 0)
        return [], [("threshold", 0), ("value", 0), ("inplace", m.inplace)]
    if isinstance(m, nn.MaxPool2d):
        names = ["kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode"]
        return [], [(a, getattr(m, a)) for a in names]
    if isinstance(m, nn.AvgPool2d):
        names = ["kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"]
        return [], [(a, getattr(m, a)) for a in names]
    if isinstance(m, nn.Dropout):
        return [], [("p", m.p), ("inplace", m.inplace)]
    if type(m) in (nn.Sequential, nn.Module):
        return [], []
    raise TypeError(f"seed_pickle does not know the 0.4 attributes of {type(m).__name__}")


def _class_of(m):
    module, name = getattr(m, "seed_class", (type(m).__module__, type(m).__qualname__))
    return Global(module, name, module_class=True)


class _Writer:
    """Turns a module tree into Module04/Tensor04 objects and collects the storages."""

    def __init__(self, location, cuda_types, num_batches_tracked, hooks, torch_size, rename, seed):
        self.location, self.cuda_types = location, cuda_types
        self.num_batches_tracked, self.hooks, self.torch_size, self.rename = num_batches_tracked, hooks, torch_size, rename
        self.rng = random.Random(seed)
        self.storages = {}
        self.state_dict = collections.OrderedDict()

    def _key(self):
        # C addresses of THStorage structs: same width, 16-byte aligned, in no particular order.
        while True:
            key = str(0x5500_0000_0000 + 16 * self.rng.randrange(1, 1 << 36))
            if key not in self.storages:
                return key

    def _size(self, dims):
        return Size04(dims, self.torch_size) if self.torch_size else tuple(dims)

    def tensor(self, t, name, requires_grad):
        t = t.detach().contiguous()
        storage = Storage04(t.dtype, self._key(), self.location, t, self.cuda_types)
        self.storages[storage.key] = storage
        self.state_dict[name] = t
        hooks = collections.OrderedDict() if self.hooks == "ordereddict" else None
        return Tensor04(storage, self._size(t.shape), self._size(t.stride()), requires_grad, hooks)

    def module(self, m, prefix, training):
        before, after = _layer_attrs(m)
        params = collections.OrderedDict()
        for k, p in m._parameters.items():
            params[k] = None if p is None else Parameter04(self.tensor(p, prefix + k, p.requires_grad), p.requires_grad)
        buffers = collections.OrderedDict()
        for k, b in m._buffers.items():
            if k == "num_batches_tracked" and not self.num_batches_tracked:
                continue
            buffers[k] = None if b is None else self.tensor(b, prefix + k, False)
        children = collections.OrderedDict()
        for k, c in m._modules.items():
            k = self.rename.get(k, k)
            children[k] = None if c is None else self.module(c, prefix + k + ".", training)
        state = dict(before)
        state.update([("_backend", BACKEND), ("_parameters", params), ("_buffers", buffers),
                      ("_backward_hooks", collections.OrderedDict()), ("_forward_hooks", collections.OrderedDict()),
                      ("_forward_pre_hooks", collections.OrderedDict()), ("_modules", children),
                      ("training", training)])
        state.update(after)
        return Module04(_class_of(m), state)

    def data_parallel(self, inner, device):
        state = {"_backend": BACKEND, "_parameters": collections.OrderedDict(), "_buffers": collections.OrderedDict(),
                 "_backward_hooks": collections.OrderedDict(), "_forward_hooks": collections.OrderedDict(),
                 "_forward_pre_hooks": collections.OrderedDict(), "_modules": collections.OrderedDict([("module", inner)]),
                 "training": inner.state["training"], "dim": 0, "device_ids": [device], "output_device": device}
        return Module04(Global("torch.nn.parallel.data_parallel", "DataParallel", module_class=True), state)


class _Pickler04(pickle._Pickler):
    """Python's own protocol-2 pickler (the pure-Python one, so memo and opcode choices are
    Python's), taught the 0.4 reductions of the objects above."""
    dispatch = dict(pickle._Pickler.dispatch)

    def __init__(self, f):
        super().__init__(f, protocol=2)
        self.classes_seen = set()

    def persistent_id(self, obj):
        if isinstance(obj, Global) and obj.module_class and obj not in self.classes_seen:
            self.classes_seen.add(obj)
            # inspect.getsourcefile: a fresh string per class, never a memo reference.
            source_file = os.path.join("/home/seed/Models", "train.py") if obj.module == "__main__" else \
                os.path.join("/usr/lib/python3.6/site-packages", *obj.module.split(".")) + ".py"
            return ("module", obj, source_file, f"class {obj.name}(nn.Module):\n    ...\n")
        if isinstance(obj, Storage04):
            kind = Global("torch.cuda" if obj.cuda_types and obj.location != "cpu" else "torch", STORAGE_TYPES[obj.dtype])
            location = "cpu" if obj.location == "cpu" else "cuda:" + str(int(obj.location[5:]))
            return ("storage", kind, str(obj.key), location, obj.data.numel(), None)
        return None

    def save_global_ref(self, obj):
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("ascii"))
        self.memoize(obj)

    def save_backend(self, obj):
        self.save(Global("torch.nn.backends.thnn", "_get_thnn_function_backend"))
        self.save(())
        self.write(pickle.REDUCE)
        self.memoize(obj)

    def save_module(self, obj):
        self.save(obj.cls)
        self.save(())
        self.write(pickle.NEWOBJ)
        self.memoize(obj)
        self.save(obj.state)
        self.write(pickle.BUILD)

    def save_size(self, obj):
        self.save(Global("torch", "Size"))
        self.save((obj.dims,))
        self.write(pickle.NEWOBJ if obj.how == "newobj" else pickle.REDUCE)
        self.memoize(obj)

    def save_tensor(self, obj):
        self.save(Global("torch._utils", "_rebuild_tensor_v2"))
        self.save((obj.storage, 0, obj.size, obj.stride, obj.requires_grad, obj.hooks))
        self.write(pickle.REDUCE)
        self.memoize(obj)

    def save_parameter(self, obj):
        self.save(Global("torch.nn.parameter", "Parameter"))
        self.save((obj.tensor, obj.requires_grad))
        self.write(pickle.REDUCE)
        self.memoize(obj)

    dispatch[Global] = save_global_ref
    dispatch[Backend] = save_backend
    dispatch[Module04] = save_module
    dispatch[Size04] = save_size
    dispatch[Tensor04] = save_tensor
    dispatch[Parameter04] = save_parameter


class _StateDict04(collections.OrderedDict):
    """A 0.4.1 state dict: an OrderedDict carrying _metadata (written as its BUILD state)."""

    def __reduce__(self):
        return collections.OrderedDict, (), {"_metadata": self._metadata}, None, iter(self.items())


def _write(path, obj, storages):
    with open(path, "wb") as f:
        for header in (MAGIC_NUMBER, PROTOCOL_VERSION,
                       {"protocol_version": PROTOCOL_VERSION, "little_endian": True,
                        "type_sizes": {"short": 2, "int": 4, "long": 8}}):
            pickle.dump(header, f, protocol=2)
        _Pickler04(f).dump(obj)
        keys = sorted(storages)
        pickle.dump(keys, f, protocol=2)
        for k in keys:
            t = storages[k].data
            f.write(struct.pack("<q", t.numel()))
            f.write(t.numpy().tobytes())


def _options(location, storage_types, num_batches_tracked, hooks, size_as_torch_size, naming, seed):
    assert location == "cpu" or location.startswith("cuda:"), location
    assert storage_types in ("normalized", "cuda") and hooks in ("none", "ordereddict"), (storage_types, hooks)
    assert size_as_torch_size in (False, "newobj", "reduce") and naming in ("align_model", "non_align_model")
    rename = {"align_model": "non_align_model", "align_model_dropout": "non_align_model_dropout"} \
        if naming == "non_align_model" else {}
    return _Writer(location, storage_types == "cuda", num_batches_tracked, hooks, size_as_torch_size, rename, seed)


def save_seed_checkpoint(module, path, *, dataparallel=True, location="cuda:0", storage_types="normalized",
                         num_batches_tracked=True, hooks="none", size_as_torch_size=False, naming="align_model",
                         training=False, seed=0, edit=None):
    """Writes `module` as torch 0.4's torch.save(nn.DataParallel(module) or module) did.

    storage_types: "normalized" names torch.FloatStorage (what 0.4 wrote), "cuda" torch.cuda.*;
    hooks: the tensors' _backward_hooks, "none" (0.4) or "ordereddict"; size_as_torch_size: False,
    "newobj" or "reduce"; naming: "non_align_model" renames the fusion models' align_model and
    align_model_dropout children, as the ensemble savers name them; edit: a function given the
    Module04 tree before it is written (hostile test files). Returns the state dict as torch would
    list it (names as stored), tensors as written."""
    w = _options(location, storage_types, num_batches_tracked, hooks, size_as_torch_size, naming, seed)
    prefix = "module." if dataparallel else ""
    tree = w.module(module, prefix, training)
    if dataparallel:
        tree = w.data_parallel(tree, int(location[5:]) if location != "cpu" else 0)
    if edit:
        edit(tree)
    _write(path, tree, w.storages)
    return w.state_dict


def save_seed_state_dict(module, path, *, dataparallel=True, location="cuda:0", storage_types="normalized",
                         num_batches_tracked=True, hooks="none", size_as_torch_size=False, seed=0):
    """Writes torch.save(model.state_dict()) of a 0.4 (DataParallel) model: plain tensors, and with
    num_batches_tracked (0.4.1) the _metadata attribute. Returns the state dict as written."""
    w = _options(location, storage_types, num_batches_tracked, hooks, size_as_torch_size, "align_model", seed)
    out = _StateDict04()
    out._metadata = collections.OrderedDict()
    prefix = "module." if dataparallel else ""
    if dataparallel:
        out._metadata[""] = {"version": 1}
    for name, m in module.named_modules(prefix=prefix[:-1]):
        out._metadata[name] = {"version": 2 if isinstance(m, nn.modules.batchnorm._BatchNorm) else 1}
    for name, t in module.state_dict().items():
        if name.endswith("num_batches_tracked") and not num_batches_tracked:
            continue
        out[prefix + name] = w.tensor(t, prefix + name, False)
    if not num_batches_tracked:
        out = collections.OrderedDict(out)
    _write(path, out, w.storages)
    return w.state_dict

