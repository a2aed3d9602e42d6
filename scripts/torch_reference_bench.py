#!/usr/bin/env python3
"""PyTorch reference for `pixelrobust bench --filter small-cnn`, on the same machine.

Optional developer script (never used by the build or the tests). It times the same work as our
benchmark: small-cnn (conv 32 -> relu -> maxpool -> conv 64 -> relu -> maxpool -> fc 128 -> fc 10)
at batch 128 on uniform [0, 1) images, one Adam(1e-3) training step and one inference forward,
and prints medians and minima in milliseconds as JSON. With --attacks it also times torchattacks'
DeepFool(steps=50, overshoot=0.02) and CW(c=1, steps=100, lr=0.01) on the batch at the model's own
predictions, as `pixelrobust bench --filter attacks` does (torchattacks' CW may stop early when its
batch cost rises; DeepFool runs image by image). With --networks it times resnet20 and wide-resnet 16-4
on 3x32x32 (the same post-activation blocks as our `Architecture`): an Adam training step (batch norm
in training mode), the step under CE + mean ||dCE_n/dx||^2 (double backprop), inference, one input
gradient and PGD-10, as `pixelrobust bench --filter resnet20` / `--filter wrn-16-4` do.

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


class Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
            nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        self.shortcut = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                         if stride != 1 or cin != cout else nn.Identity())

    def forward(self, x):
        return torch.relu(self.body(x) + self.shortcut(x))


def resnet(blocks: int, widths, classes: int = 10) -> nn.Module:
    layers = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    channels = 16
    for s, w in enumerate(widths):
        for b in range(blocks):
            layers.append(Block(channels, w, 2 if s > 0 and b == 0 else 1))
            channels = w
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, classes))


def training_step(model: nn.Module, x, labels):
    """One Adam(1e-3) step on cross-entropy, as a closure, with its optimizer and loss."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(x), labels).backward()
        optimizer.step()
    return step, optimizer, loss_fn


def network_cases(name: str, model: nn.Module, batch: int, repeats: int) -> dict:
    x = torch.rand(batch, 3, 32, 32)
    labels = torch.arange(batch) % 10
    train_step, optimizer, loss_fn = training_step(model, x, labels)

    def double_backprop_step():
        optimizer.zero_grad(set_to_none=True)
        probe = x.clone().requires_grad_(True)
        logits = model(probe)
        ce = loss_fn(logits, labels)
        (g,) = torch.autograd.grad(nn.functional.cross_entropy(logits, labels, reduction="sum"), probe, create_graph=True)
        (ce + g.pow(2).sum((1, 2, 3)).mean()).backward()
        optimizer.step()

    def evaluate():
        with torch.no_grad():
            model(x)

    def input_gradient():
        probe = x.clone().requires_grad_(True)
        torch.autograd.grad(loss_fn(model(probe), labels), probe)

    def pgd10():
        eps, step = 8 / 255, 2 / 255
        adv = x.clone()
        for _ in range(10):
            adv.requires_grad_(True)
            (g,) = torch.autograd.grad(loss_fn(model(adv), labels), adv)
            adv = torch.min(torch.max(adv.detach() + step * g.sign(), x - eps), x + eps).clamp(0, 1)

    out = {}
    model.train()
    for case, fn in (("train-step", train_step), ("double-backprop-step", double_backprop_step)):
        out[f"{name}.{case}"] = timed(fn, repeats, warmup=2)
    model.eval()
    for case, fn in (("evaluate", evaluate), ("input-gradient", input_gradient), ("pgd-10", pgd10)):
        out[f"{name}.{case}"] = timed(fn, repeats if case != "pgd-10" else max(3, repeats // 3), warmup=1)
    return {k: {"medianMilliseconds": round(statistics.median(t), 3), "minimumMilliseconds": round(min(t), 3),
                "imagesPerSecond": round(batch / statistics.median(t) * 1e3, 1)} for k, t in out.items()}


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
    parser.add_argument("--networks", action="store_true",
                        help="also time resnet20 and wide-resnet 16-4 on 3x32x32 (train, double backprop, inference, input gradient, PGD-10)")
    parser.add_argument("--torchvision", default="",
                        help="comma-separated torchvision models (e.g. resnet18,resnet50) to time at 224x224: inference and "
                             "one input gradient at --torchvision-batch, as `pixelrobust bench --onnx` does for their exports")
    parser.add_argument("--torchvision-batch", type=int, default=16)
    parser.add_argument("--smoothing", action="store_true",
                        help="also time smoothed prediction (vote, 32 draws, sigma 0.25) and certification draws")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = small_cnn()
    x = torch.rand(args.batch, 1, 28, 28)
    labels = torch.arange(args.batch) % 10
    train_step, _, _ = training_step(model, x, labels)

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
    if args.networks:
        torch.manual_seed(0)
        report.update(network_cases("resnet20", resnet(3, [16, 32, 64]), args.batch, args.repeats))
        report.update(network_cases("wrn-16-4", resnet(2, [64, 128, 256]), args.batch, args.repeats))
    for name in filter(None, args.torchvision.split(",")):
        import torchvision
        torch.manual_seed(0)
        net = getattr(torchvision.models, name)().eval()
        images = torch.rand(args.torchvision_batch, 3, 224, 224)
        targets = torch.arange(args.torchvision_batch) % 1000

        def forward():
            with torch.no_grad():
                net(images)

        def gradient():
            probe = images.clone().requires_grad_(True)
            torch.autograd.grad(nn.functional.cross_entropy(net(probe), targets), probe)

        for case, fn in (("evaluate", forward), ("input-gradient", gradient)):
            t = timed(fn, max(3, args.repeats // 3), warmup=1)
            report[f"{name}.{case}"] = {"medianMilliseconds": round(statistics.median(t), 3),
                                        "imagesPerSecond": round(args.torchvision_batch / statistics.median(t) * 1e3, 2)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
