#!/usr/bin/env python3
"""PyTorch reference for `pixelrobust bench --filter small-cnn`, on the same machine.

Optional developer script (never used by the build or the tests). It times the same work as our
benchmark: small-cnn (conv 32 -> relu -> maxpool -> conv 64 -> relu -> maxpool -> fc 128 -> fc 10)
at batch 128 on uniform [0, 1) images, one Adam(1e-3) training step and one inference forward,
and prints medians and minima in milliseconds as JSON. With --attacks it also times torchattacks'
DeepFool(steps=50, overshoot=0.02) and CW(c=1, steps=100, lr=0.01) on the batch at the model's own
predictions, as `pixelrobust bench --filter attacks` does (torchattacks' CW may stop early when its
batch cost rises; DeepFool runs image by image).

    python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch   # a CPU wheel
    /tmp/torchenv/bin/python scripts/torch_reference_bench.py --threads 2 --repeats 21
"""
import argparse
import json
import statistics
import time

import torch
from torch import nn


def small_cnn(classes: int = 10) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, classes),
    )


def timed(step, repeats: int, warmup: int = 3) -> list:
    for _ in range(warmup):
        step()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        samples.append((time.perf_counter() - start) * 1e3)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--attacks", action="store_true", help="also time torchattacks DeepFool and CW")
    parser.add_argument("--smoothing", action="store_true",
                        help="also time smoothed prediction (vote, 32 draws, sigma 0.25) and certification draws")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = small_cnn()
    x = torch.rand(args.batch, 1, 28, 28)
    labels = torch.arange(args.batch) % 10
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(x), labels).backward()
        optimizer.step()

    def evaluate():
        with torch.no_grad():
            model(x)

    model.train()
    train = timed(train_step, args.repeats)
    model.eval()
    infer = timed(evaluate, args.repeats)
    report = {"torch": torch.__version__, "threads": torch.get_num_threads(), "batch": args.batch}
    for name, t in (("train-step", train), ("evaluate", infer)):
        median = statistics.median(t)
        report[name] = {"medianMilliseconds": round(median, 3), "minimumMilliseconds": round(min(t), 3),
                        "imagesPerSecond": round(args.batch / median * 1e3)}
    if args.attacks:
        import torchattacks
        with torch.no_grad():
            predicted = model(x).argmax(1)
        for name, attack in (("deepfool-l2", torchattacks.DeepFool(model, steps=50, overshoot=0.02)),
                             ("cw-l2", torchattacks.CW(model, c=1, kappa=0, steps=100, lr=0.01))):
            t = timed(lambda: attack(x, predicted), 3, warmup=1)
            median = statistics.median(t)
            report[name] = {"medianMilliseconds": round(median, 3), "minimumMilliseconds": round(min(t), 3),
                            "imagesPerSecond": round(args.batch / median * 1e3, 1)}
    if args.smoothing:
        model.eval()

        def votes(images, draws, chunk=1024):
            counts = torch.zeros(len(images), 10)
            with torch.no_grad():
                per = max(1, chunk // draws)
                for i in range(0, len(images), per):
                    part = images[i:i + per]
                    copies = part.repeat_interleave(draws, 0)
                    top = model(copies + 0.25 * torch.randn_like(copies)).argmax(1).view(len(part), draws)
                    counts[i:i + len(part)] = torch.nn.functional.one_hot(top, 10).sum(1).float()
            return counts

        t = timed(lambda: votes(x, 32).argmax(1), 5, warmup=1)
        median = statistics.median(t)
        report["smoothing-predict"] = {"medianMilliseconds": round(median, 3), "imagesPerSecond": round(args.batch / median * 1e3, 1)}
        sixteen = x[:16]
        t = timed(lambda: (votes(sixteen, 100), votes(sixteen, 1000)), 3, warmup=1)
        median = statistics.median(t)
        report["smoothing-certify"] = {"medianMilliseconds": round(median, 3), "drawsPerSecond": round(16 * 1100 / median * 1e3)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
