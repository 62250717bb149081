"""PyTorch's side of test_train_epochs_parity.cpp: the local arch (sphere20a per face, a Linear
3-way fc6, an image's logits the mean of its real faces' logits, zero logits for an image without
faces) trained on the batches gler's Loader gave, written from the semantics rather than from
gler's code:
  per epoch: lr from torch.optim.lr_scheduler.StepLR (stepped at the end of each epoch), model.train(),
  for every batch zero_grad, forward, loss, backward, SGD step; train_loss = sum(batch loss x batch
  size) / images; then model.eval() under no_grad over the validation batches, val_loss =
  sum(CE(image logits) x batch size) / images.
  face_ce: every real face its own sample labelled with its image's label, CE mean over the batch's
  real faces (0 for a batch without faces); ce: CE (mean) of the image logits.
Inputs (test::TorchRef names): init.<param>, train.<e>.<k>.{faces,counts,labels},
val.<k>.{faces,counts,labels}, spec (i64: epochs, train batches per epoch, val batches, widths x4,
feature_dim, fc5_in, step_size); hyper (f64: lr, momentum, gamma). Outputs, per loss L:
L.train_loss, L.val_loss, L.lr (f64 [epochs]), L.train_images, L.val_images (i64 [epochs])."""
import torch
import torch.nn.functional as F

from sphere_torch import Sphere20a


def real_faces(faces, counts):
    return torch.cat([faces[b, :n] for b, n in enumerate(counts)], 0)


def face_logits_of(m, faces, counts):
    x = real_faces(faces, counts)
    if x.size(0) == 0:
        return torch.zeros(0, 3, dtype=faces.dtype)
    return m(x)[1]


def image_logits(face_logits, counts):
    rows, o = [], 0
    for n in counts:
        rows.append(face_logits[o:o + n].mean(0) if n > 0 else face_logits.new_zeros(3))
        o += n
    return torch.stack(rows)


def batch_loss(kind, face_logits, counts, labels):
    if kind == "face_ce":
        if face_logits.size(0) == 0:
            return torch.zeros((), dtype=face_logits.dtype)
        return F.cross_entropy(face_logits, labels.repeat_interleave(torch.tensor(counts)))
    return F.cross_entropy(image_logits(face_logits, counts), labels)


def batch(load, prefix):
    return load(prefix + ".faces"), load(prefix + ".counts").tolist(), load(prefix + ".labels")


def run(load, save, kinds):
    spec = load("spec").tolist()
    epochs, train_batches, val_batches = spec[0], spec[1], spec[2]
    widths, feature_dim, fc5_in, step_size = tuple(spec[3:7]), spec[7], spec[8], spec[9]
    lr, momentum, gamma = load("hyper").tolist()
    for kind in kinds:
        m = Sphere20a("linear", 3, widths=widths, feature_dim=feature_dim, fc5_in=fc5_in)
        m.load_state_dict({k: load("init." + k) for k in m.state_dict()}, strict=True)
        opt = torch.optim.SGD(m.parameters(), lr=lr, momentum=momentum)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=step_size, gamma=gamma)
        out = {"train_loss": [], "val_loss": [], "lr": [], "train_images": [], "val_images": []}
        for e in range(epochs):
            out["lr"].append(opt.param_groups[0]["lr"])
            m.train()
            total, images = 0.0, 0
            for k in range(train_batches):
                faces, counts, labels = batch(load, f"train.{e}.{k}")
                opt.zero_grad()
                loss = batch_loss(kind, face_logits_of(m, faces, counts), counts, labels)
                if loss.requires_grad:
                    loss.backward()
                opt.step()
                total += loss.item() * len(counts)
                images += len(counts)
            out["train_loss"].append(total / images)
            out["train_images"].append(images)
            sched.step()
            m.eval()
            total, images = 0.0, 0
            with torch.no_grad():
                for k in range(val_batches):
                    faces, counts, labels = batch(load, f"val.{k}")
                    logits = image_logits(face_logits_of(m, faces, counts), counts)
                    total += F.cross_entropy(logits, labels).item() * len(counts)
                    images += len(counts)
            out["val_loss"].append(total / images)
            out["val_images"].append(images)
        for name, values in out.items():
            dtype = torch.int64 if name.endswith("images") else torch.float64
            save(kind + "." + name, torch.tensor(values, dtype=dtype))
