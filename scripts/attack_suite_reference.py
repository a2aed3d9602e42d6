#!/usr/bin/env python3
"""Runs the reference libraries' attacks on the same weights and images as `pixelrobust attack`.

Optional comparison for notebook 06 (never part of the build or the tests). Loads a small-cnn
checkpoint written by pixelrobust (safetensors, torch layouts), the first N Fashion-MNIST test
images from the Debian package, and runs foolbox 3.3 L2 DeepFool and L2 C&W and torchattacks 3.5
DeepFool, CW, JSMA and OnePixel (plus APGD/Square for reference). Prints one JSON object per
attack: success rate over correctly classified images, median/mean L2 (or L0) over successes,
robust accuracy for bounded attacks, seconds per image.

  python3 scripts/attack_suite_reference.py --model runs/nb06/small-cnn.safetensors --count 500
"""
import argparse, gzip, json, struct, time

import numpy as np
import torch
import torch.nn as nn


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        assert v["dtype"] == "F32", v
        a, b = v["data_offsets"]
        out[k] = torch.from_numpy(np.frombuffer(data[a:b], dtype="<f4").reshape(v["shape"]).copy())
    return out


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = struct.unpack(">" + "I" * dims, raw[4:4 + 4 * dims])
    return np.frombuffer(raw[4 + 4 * dims:], dtype=np.uint8).reshape(shape)


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.fc1 = nn.Linear(1600, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
        return self.fc2(torch.relu(self.fc1(x.flatten(1))))


def summarise(name, model, x, y, x_adv, seconds, norm="l2", epsilon=None):
    with torch.no_grad():
        clean = model(x).argmax(1) == y
        adv = model(x_adv).argmax(1)
    delta = (x_adv - x).flatten(1)
    if norm == "l0":
        sizes = (delta != 0).sum(1).double()
    elif norm == "linf":
        sizes = delta.abs().max(1).values.double()
    else:
        sizes = delta.norm(dim=1).double()
    if name.startswith("torchattacks JSMA"):
        fooled = adv == (y + 1) % 10
    else:
        fooled = adv != y
    ok = clean & fooled
    s = sizes[ok]
    row = {"attack": name, "count": len(y), "clean_accuracy": clean.double().mean().item(),
           "success_rate": (ok.sum() / clean.sum()).item(),
           "median_size": s.median().item() if len(s) else None, "mean_size": s.mean().item() if len(s) else None,
           "robust_accuracy": (clean & (adv == y)).double().mean().item(), "seconds_per_image": seconds / len(y), "norm": norm}
    if epsilon is not None:
        row["epsilon"] = epsilon
    print(json.dumps(row), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--count", type=int, default=500)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--only", default="", help="comma-separated subset of: fb-deepfool,fb-cw,ta-deepfool,ta-cw,ta-jsma,ta-onepixel,ta-apgd,ta-square,ta-pgd")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    model = SmallCNN()
    model.load_state_dict(read_safetensors(a.model))
    model.eval()
    images = read_idx(f"{a.data}/t10k-images-idx3-ubyte.gz")[:a.count]
    labels = read_idx(f"{a.data}/t10k-labels-idx1-ubyte.gz")[:a.count]
    x = torch.from_numpy(images.astype(np.float32) / 255).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))
    only = set(filter(None, a.only.split(",")))
    want = lambda k: not only or k in only

    import foolbox as fb
    import torchattacks as ta
    fmodel = fb.PyTorchModel(model, bounds=(0, 1))

    def run_fb(name, attack):
        t = time.perf_counter()
        raw = attack.run(fmodel, x, fb.criteria.Misclassification(y))
        summarise(name, model, x, y, raw.clamp(0, 1), time.perf_counter() - t)

    def run_ta(name, attack, norm="l2", epsilon=None, batch=None):
        t = time.perf_counter()
        if batch:
            out = torch.cat([attack(x[i:i + batch], y[i:i + batch]) for i in range(0, len(y), batch)])
        else:
            out = attack(x, y)
        summarise(name, model, x, y, out, time.perf_counter() - t, norm=norm, epsilon=epsilon)

    if want("fb-deepfool"):
        run_fb("foolbox L2DeepFoolAttack(steps=50, overshoot=0.02)", fb.attacks.L2DeepFoolAttack(steps=50, overshoot=0.02))
    if want("fb-cw"):
        run_fb("foolbox L2CarliniWagnerAttack(binary_search_steps=9, steps=100)",
               fb.attacks.L2CarliniWagnerAttack(binary_search_steps=9, steps=100))
    if want("ta-deepfool"):
        run_ta("torchattacks DeepFool(steps=50, overshoot=0.02)", ta.DeepFool(model, steps=50, overshoot=0.02))
    if want("ta-cw"):
        run_ta("torchattacks CW(c=1, kappa=0, steps=100, lr=0.01)", ta.CW(model, c=1, kappa=0, steps=100, lr=0.01))
    if want("ta-jsma"):
        run_ta("torchattacks JSMA(theta=1, gamma=0.1)", ta.JSMA(model, theta=1, gamma=0.1), norm="l0")
    if want("ta-onepixel"):
        run_ta("torchattacks OnePixel(pixels=1, steps=30, popsize=20)", ta.OnePixel(model, pixels=1, steps=30, popsize=20), norm="l0")
    if want("ta-pgd"):
        run_ta("torchattacks PGD(eps=0.1, alpha=0.01, steps=20, random_start=False)",
               ta.PGD(model, eps=0.1, alpha=0.01, steps=20, random_start=False), norm="linf", epsilon=0.1)
    if want("ta-apgd"):
        run_ta("torchattacks APGD(eps=0.1, steps=100, loss=ce)", ta.APGD(model, eps=0.1, steps=100, loss="ce", seed=0),
               norm="linf", epsilon=0.1)
    if want("ta-square"):
        run_ta("torchattacks Square(eps=0.1, n_queries=1000)", ta.Square(model, eps=0.1, n_queries=1000, seed=0),
               norm="linf", epsilon=0.1)


if __name__ == "__main__":
    main()
