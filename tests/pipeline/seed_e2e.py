"""End-to-end references for gler_infer: every arch as the seed saved it (a whole DataParallel
module, torch 0.4's legacy format, the seed's class and attribute names; tests/import/seed_pickle.py)
with random weights and random BatchNorm statistics, run by the seed's PyTorch forward
(tests/models/seed_models.py) on the seed's inputs: photos opened with PIL and transformed as its
savers did (Resize((224, 224)), ToTensor, Normalize; a greyscale photo normalised with the red
channel's constants, then replicated), aligned crops read from DIR/<stem>_<i>.jpg (Resize((96, 112)),
ToTensor), O-Net features from DIR/<stem>.npz.

Usage: seed_e2e.py OUT_DIR PHOTO:FACES ...
Writes OUT_DIR/crops/<stem>_<i>.jpg (FACES crops cut from the photo, saved by PIL at quality 75 as
the seed's aligner saved them) and <stem>.npz, OUT_DIR/<case>.pt for every case, and
OUT_DIR/expected.json: {case: {"arch", "flags", "logits": [[3] per photo], "attention": [[F]] or null}}.
"""
import json
import os
import sys

import numpy as np
import torch
from PIL import Image
import torchvision
import torchvision.transforms as T

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'models'))
sys.path.insert(0, os.path.join(HERE, '..', 'import'))
import seed_models  # noqa: E402
import seed_pickle  # noqa: E402

MAX_FACES = 15
# name, arch, builder keywords, the gler_import flags the file needs (none: inferred), what is pickled
CASES = [
    ('global', 'global', {}, 'whole'),
    ('local', 'local', {}, 'sphere'),           # the Local checkpoint: DataParallel(sphere20a)
    ('local_lsoftmax', 'local', {'local_head': 'lsoftmax'}, 'whole'),  # FineTune: the wrapper
    ('average', 'average', {}, 'whole'),
    ('attention_a', 'attention_a', {}, 'whole'),
    ('attention_b', 'attention_b', {}, 'whole'),
    ('attention_c', 'attention_c', {}, 'whole'),
    ('attention_b_emotic', 'attention_b', {'emotic': True}, 'whole'),
    ('attention_c_emotic', 'attention_c', {'emotic': True}, 'whole'),
]


def seed_global(path):
    """The seed savers' global input for one photo, as PIL opens it (no convert('RGB'))."""
    img = Image.open(path)
    t = T.ToTensor()(T.Resize((224, 224))(img))
    if t.shape[0] == 1:
        # torchvision 0.2.1 zipped the channels with the constants: the red ones only.
        mean = torch.as_tensor([0.485], dtype=torch.float32)[:, None, None]
        std = torch.as_tensor([0.229], dtype=torch.float32)[:, None, None]
        return ((t - mean) / std).repeat(3, 1, 1)
    return T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))(t)


def write_crops(photo, n, crops_dir, rng):
    """n crops of the photo at pseudo-random places, 112 wide x 96 high, JPEG quality 75."""
    stem = os.path.splitext(os.path.basename(photo))[0]
    img = Image.open(photo).convert('RGB')
    for i in range(n):
        w = int(rng.integers(40, min(img.width, 200)))
        h = int(w * 96 / 112)
        x, y = int(rng.integers(0, img.width - w)), int(rng.integers(0, img.height - h))
        img.crop((x, y, x + w, y + h)).resize((112, 96), Image.BILINEAR).save(
            os.path.join(crops_dir, f'{stem}_{i}.jpg'), quality=75)
    features = rng.standard_normal((n, 256)).astype(np.float32)
    np.savez(os.path.join(crops_dir, stem + '.npz'), a=features)
    return stem, features


def seed_faces(stem, n, crops_dir):
    faces = torch.zeros(MAX_FACES, 3, 96, 112)
    for i in range(min(n, MAX_FACES)):
        img = Image.open(os.path.join(crops_dir, f'{stem}_{i}.jpg'))
        faces[i] = T.ToTensor()(T.Resize((96, 112))(img))
    return faces


def randomize(model, gen):
    """Non-trivial BatchNorm statistics and an initialised L-Softmax weight (the seed never
    initialises it), so that every tensor of the file matters."""
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.running_mean.normal_(0, 0.1, generator=gen)
            m.running_var.uniform_(0.5, 1.5, generator=gen)
        if isinstance(m, seed_models.LSoftmaxLinear):
            m.weight.data.normal_(0, 0.05, generator=gen)


DENSENET = 'torchvision.models.densenet'


def as_seed_tree(model):
    """Gives each module of a seed_models tree the class and attributes the seed's pickles carry
    (seed_pickle reads seed_class / seed_attrs): the seed's __main__ classes, torchvision 0.2.1's
    DenseNet classes with their `norm.1`-style child names. Call after the forward: renamed dense
    layers no longer run."""
    dn = torchvision.models.densenet
    for m in model.modules():
        if isinstance(m, dn._DenseLayer):
            m.seed_class, m.seed_attrs = (DENSENET, '_DenseLayer'), ['drop_rate']
            m._modules = type(m._modules)((k[:-1] + '.' + k[-1], c) for k, c in m._modules.items())
        elif isinstance(m, dn._DenseBlock):
            m.seed_class, m.seed_attrs = (DENSENET, '_DenseBlock'), []
        elif isinstance(m, dn._Transition):
            m.seed_class, m.seed_attrs = (DENSENET, '_Transition'), []
        elif isinstance(m, dn.DenseNet):
            m.seed_class, m.seed_attrs = (DENSENET, 'DenseNet'), []
        elif isinstance(m, seed_models.sphere20a):
            m.classnum, m.feature = m.fc6.weight.shape[0 if isinstance(m.fc6, torch.nn.Linear) else 1], False
            m.seed_class, m.seed_attrs = ('__main__', 'sphere20a'), ['classnum', 'feature']
        elif isinstance(m, seed_models.LSoftmaxLinear):
            # As the seed's pickles hold them (scipy's binom gives a float64 array).
            m.coeffs = np.array(m.coeffs, dtype=np.float64)
            m.cos_exps, m.sin_sq_exps = m.cos_powers, m.sin2_powers
            m.seed_class = ('__main__', 'LSoftmaxLinear')
            m.seed_attrs = ['input_dim', 'output_dim', 'margin', 'divisor', 'coeffs', 'cos_exps', 'sin_sq_exps', 'signs']
        elif hasattr(type(m), 'SEED_NAME'):
            m.seed_class, m.seed_attrs = ('__main__', m.SEED_NAME), []
    return model


def main():
    out_dir = sys.argv[1]
    crops_dir = os.path.join(out_dir, 'crops')
    os.makedirs(crops_dir, exist_ok=True)
    rng = np.random.default_rng(2018)
    photos = []
    for arg in sys.argv[2:]:
        path, n = arg.rsplit(':', 1)
        stem, features = write_crops(path, int(n), crops_dir, rng)
        photos.append((path, stem, int(n), features))
    images = torch.stack([seed_global(p) for p, _, _, _ in photos])
    faces = torch.stack([seed_faces(stem, n, crops_dir) for _, stem, n, _ in photos])
    counts = [n for _, _, n, _ in photos]
    face_features = torch.zeros(len(photos), MAX_FACES, 256)
    for b, (_, _, n, f) in enumerate(photos):
        face_features[b, :min(n, MAX_FACES)] = torch.from_numpy(f[:MAX_FACES])

    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    expected = {}
    for name, arch, kw, saved in CASES:
        model = seed_models.build(arch, seed_compat=True, **kw)
        randomize(model, gen)
        model.eval()
        with torch.no_grad():
            logits, attention = seed_models.run(model, images, faces, counts, face_features)
        target = as_seed_tree(model.align_model if saved == 'sphere' else model)
        # The fusion models as the ensemble savers name their face CNN (SEED_SPEC §6.1).
        naming = 'non_align_model' if arch.startswith('attention') else 'align_model'
        seed_pickle.save_seed_checkpoint(target, os.path.join(out_dir, name + '.pt'), naming=naming,
                                         size_as_torch_size='newobj')
        expected[name] = {'arch': arch, 'logits': logits.tolist(),
                          'attention': attention.tolist() if attention is not None else None}
        print(name, 'done', flush=True)
    with open(os.path.join(out_dir, 'expected.json'), 'w') as f:
        json.dump(expected, f)


if __name__ == '__main__':
    main()
