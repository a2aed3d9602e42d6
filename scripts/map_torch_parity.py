#!/usr/bin/env python3
"""Compare a pixelrobust gradient map of a small-cnn checkpoint with PyTorch's (optional; needs torch).

    pixelrobust gradient-map --model M.safetensors --limit N --output DIR [--batch-size B]
    python3 scripts/map_torch_parity.py M.safetensors DIR/G.npy --limit N

Builds the same network in PyTorch (conv 3x3 32, ReLU, max-pool 2, conv 3x3 64, ReLU, max-pool 2,
linear 128, ReLU, linear 10), loads the checkpoint's weights, computes
G = mean_n |dCE/dx_n| over the first N Fashion-MNIST test images in float32 (and float64), and prints
the largest differences as JSON. Never part of the build or the tests.
"""
import argparse
import gzip
import json
import struct

import numpy as np
import torch
from torch import nn


def read_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + start:8 + n + end], dtype=np.float32).reshape(info["shape"])
    return out


def read_idx(path):
    data = gzip.open(path).read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data[4 + 4 * dims:], dtype=np.uint8).reshape(shape)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("map")
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()
    torch.set_num_threads(2)
    w = read_safetensors(args.checkpoint)
    net = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10))
    names = {0: "conv1", 3: "conv2", 7: "fc1", 9: "fc2"}
    with torch.no_grad():
        for index, name in names.items():
            net[index].weight.copy_(torch.from_numpy(w[f"{name}.weight"].copy()))
            net[index].bias.copy_(torch.from_numpy(w[f"{name}.bias"].copy()))
    net.eval()
    images = read_idx(f"{args.data}/t10k-images-idx3-ubyte.gz")[:args.limit].astype(np.float32) / 255
    labels = read_idx(f"{args.data}/t10k-labels-idx1-ubyte.gz")[:args.limit].astype(np.int64)

    def gradient_map(dtype):
        model = net.to(dtype)
        x = torch.from_numpy(images).to(dtype).unsqueeze(1).requires_grad_(True)
        loss = nn.functional.cross_entropy(model(x), torch.from_numpy(labels), reduction="sum")
        (g,) = torch.autograd.grad(loss, x)
        return g.abs().mean(0).double().numpy()

    ours = np.load(args.map).astype(np.float64).reshape(1, 28, 28)
    report = {"images": args.limit}
    for name, dtype in (("float32", torch.float32), ("float64", torch.float64)):
        reference = gradient_map(dtype)
        diff = np.abs(ours - reference)
        report[name] = {"max_abs_diff_over_max_G": float(diff.max() / reference.max()),
                        "max_relative_pixel_diff": float((diff / np.maximum(reference, 1e-12)).max()),
                        "pixels_off_by_more_than_1e-4_of_max": int((diff > 1e-4 * reference.max()).sum())}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
