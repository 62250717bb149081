"""PyTorch side of tests/models/test_densenet_parity.cpp, run through TorchRef (whose prelude
defines torch, np, load and save): torchvision's DenseNets, checkpoints written the ways
torchvision and the seed wrote them, and reference outputs, losses and gradients."""
import re
from collections import OrderedDict

import torch.nn.functional as F
import torchvision
from torchvision.models.densenet import DenseNet

ARCHS = ('densenet121', 'densenet161', 'densenet169', 'densenet201')


def write_state_dict_layouts(path):
    """One line per entry of every preset's state dict, in order: "arch name d0,d1,..." ("-" for 0-d)."""
    with open(path, 'w') as f:
        for arch in ARCHS:
            for name, t in getattr(torchvision.models, arch)().state_dict().items():
                f.write(f"{arch} {name} {','.join(str(d) for d in t.shape) or '-'}\n")


def old_names(sd):
    """torchvision <= 0.2.1's dense-layer names: denselayer1.norm.1.weight for denselayer1.norm1.weight."""
    return OrderedDict((re.sub(r'(denselayer\d+\.)(norm|relu|conv)([12])\.', r'\1\2.\3.', k), v) for k, v in sd.items())


def imagenet_checkpoints(out_dir):
    """A randomly initialised densenet161 with non-trivial BatchNorm state, saved as torchvision
    model-zoo files (zip, legacy, legacy with old names, old names without num_batches_tracked as
    PyTorch 0.4.0 wrote them), its eval-mode features, seed head and logits on load('x'), and two
    checkpoints of other architectures."""
    torch.manual_seed(0)
    m = torchvision.models.densenet161()
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.2, 0.2)
                mod.running_mean.uniform_(-0.2, 0.2)
                mod.running_var.uniform_(0.5, 2.0)
                mod.num_batches_tracked.fill_(7)
    m.eval()
    sd = m.state_dict()
    torch.save(sd, f'{out_dir}/densenet161-zip.pth')
    torch.save(sd, f'{out_dir}/densenet161-legacy.pth', _use_new_zipfile_serialization=False)
    torch.save(old_names(sd), f'{out_dir}/densenet161-oldnames.pth', _use_new_zipfile_serialization=False)
    no_count = OrderedDict((k, v) for k, v in old_names(sd).items() if not k.endswith('num_batches_tracked'))
    torch.save(no_count, f'{out_dir}/densenet161-0.4.0.pth', _use_new_zipfile_serialization=False)
    with torch.no_grad():
        x = load('x')
        f = m.features(x)
        save('features', f)
        save('global', F.avg_pool2d(F.relu(f), kernel_size=7, stride=1).view(f.size(0), -1))
        # torchvision's DenseNet.forward after features (running features once more would double the time)
        save('logits', m.classifier(torch.flatten(F.adaptive_avg_pool2d(F.relu(f), (1, 1)), 1)))
    torch.save(torchvision.models.densenet121().state_dict(), f'{out_dir}/densenet121.pth')
    sphere = OrderedDict([('conv1_1.weight', torch.zeros(64, 3, 3, 3)), ('conv1_1.bias', torch.zeros(64)),
                          ('relu1_1.weight', torch.full((64,), 0.25)), ('fc6.weight', torch.zeros(3, 512)),
                          ('fc6.bias', torch.zeros(3))])
    torch.save(sphere, f'{out_dir}/sphere20a-like.pth')


def training_steps(prefix, dtype, keys, config, steps, lr):
    """Train-mode steps of a small DenseNet from the weights put under prefix.sd.*: per step the
    logits, the cross-entropy loss and every parameter's gradient, then plain SGD with `lr`;
    finally the whole state dict (updated weights and BatchNorm running statistics)."""
    m = DenseNet(**config).to(dtype)
    m.load_state_dict({k: load(f'{prefix}.sd.{k}') for k in keys})
    m.train()
    for s in range(steps):
        m.zero_grad()
        logits = m(load(f'{prefix}.x{s}'))
        loss = F.cross_entropy(logits, load(f'{prefix}.labels{s}'))
        loss.backward()
        save(f'{prefix}.logits{s}', logits)
        save(f'{prefix}.loss{s}', loss)
        for n, p in m.named_parameters():
            save(f'{prefix}.grad{s}.{n}', p.grad)
        with torch.no_grad():
            for p in m.parameters():
                p -= lr * p.grad
    for n, t in m.state_dict().items():
        save(f'{prefix}.after.{n}', t)
