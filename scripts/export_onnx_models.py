#!/usr/bin/env python3
"""Exports ONNX models with random weights and their PyTorch reference outputs, for the import parity checks.

Optional (needs torch, torchvision, onnx; never part of the build or the tests).

  python3 scripts/export_onnx_models.py fixtures Tests/PixelONNXTests/Fixtures
      the tiny committed fixtures: a CNN with batch norm (folded, inference and training form), a
      residual block behind a normalising front end (static dynamo export: a baked batch Reshape),
      branches joined by Concat with ReLU6, depthwise convolution, average pooling and a final
      Softmax, and a model with external data.
  python3 scripts/export_onnx_models.py zoo DIR
      smallcnn, resnet18, resnet50, vgg11_bn, mobilenet_v2, densenet121 (224×224) and a
      RobustBench-style WRN-28-10 (32×32), each in both dialects (dynamo=True, dynamo=False).

Every model M is written as M.onnx with M.input.npy (float32 NCHW in [0, 1]), M.labels.npy (float32
class indices), M.logits.npy and M.grad.npy: per-example ∂CE(f(x_n), y_n)/∂x_n (the sum of the
per-example losses, so each example's gradient is its own); zoo models also get M.grad64.npy, the
same gradient in float64, which shows how far float32 itself (PyTorch's or ours) is from exact.
Train-mode exports use the model in training mode for the reference (batch statistics).
"""
import argparse, copy, json, os, sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class SmallCNNBN(nn.Module):
    def __init__(self, classes=4):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(6)
        self.conv2 = nn.Conv2d(6, 8, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8 * 2 * 2, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        return self.fc(torch.flatten(x, 1))


class Normalize(nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x):
        return (x - self.mean) / self.std


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


class ResidualNet(nn.Module):
    def __init__(self, classes=5):
        super().__init__()
        self.norm = Normalize([0.49, 0.48, 0.45], [0.25, 0.24, 0.26])
        self.stem = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.block = BasicBlock(4, 8, 2)
        self.fc = nn.Linear(8, classes)

    def forward(self, x):
        x = self.block(self.stem(self.norm(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class Branches(nn.Module):
    def __init__(self, classes=3):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1)
        self.depthwise = nn.Conv2d(4, 4, 3, padding=1, groups=4)
        self.b = nn.Conv2d(3, 2, 1)
        self.fc = nn.Linear(6 * 4 * 4, classes)
        self.reference = False

    def forward(self, x):
        a = F.relu6(self.depthwise(F.leaky_relu(self.a(x), 0.1)))
        b = torch.sigmoid(self.b(x)) * torch.tanh(self.b(x))
        y = F.avg_pool2d(torch.cat([a, b], 1), 2)
        logits = self.fc(torch.flatten(y, 1))
        # The export ends in Softmax (the import removes it); the references are the logits.
        return logits if self.reference else F.softmax(logits, dim=1)


class WideBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1, self.conv1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2, self.conv2 = nn.BatchNorm2d(cout), nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.shortcut = None if cin == cout and stride == 1 else nn.Conv2d(cin, cout, 1, stride, bias=False)

    def forward(self, x):
        o = F.relu(self.bn1(x))
        y = self.conv2(F.relu(self.bn2(self.conv1(o))))
        return y + (x if self.shortcut is None else self.shortcut(o))


class WideResNet(nn.Module):
    """The RobustBench WRN-28-10 layout (pre-activation blocks, CIFAR normalisation in front)."""

    def __init__(self, depth=28, widen=10, classes=10):
        super().__init__()
        n, widths = (depth - 4) // 6, [16, 16 * widen, 32 * widen, 64 * widen]
        self.norm = Normalize([0.4914, 0.4822, 0.4465], [0.2471, 0.2435, 0.2616])
        self.conv1 = nn.Conv2d(3, widths[0], 3, 1, 1, bias=False)
        layers = []
        for g, stride in zip(range(3), [1, 2, 2]):
            for i in range(n):
                layers.append(WideBlock(widths[g] if i == 0 else widths[g + 1], widths[g + 1], stride if i == 0 else 1))
        self.blocks = nn.Sequential(*layers)
        self.bn, self.fc = nn.BatchNorm2d(widths[3]), nn.Linear(widths[3], classes)

    def forward(self, x):
        x = F.relu(self.bn(self.blocks(self.conv1(self.norm(x)))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def randomise_batch_norm(model, generator):
    """Random running statistics and affine parameters, so batch norm is not the identity."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(m.num_features, generator=generator) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=generator) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=generator) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=generator) * 0.1)


def references(model, x, train):
    model.train(train)
    if hasattr(model, "reference"):
        model.reference = True
    labels = torch.arange(x.shape[0]) % 3
    xg = x.clone().requires_grad_(True)
    logits = model(xg)
    loss = F.cross_entropy(logits, labels, reduction="sum")
    (grad,) = torch.autograd.grad(loss, xg)
    model.eval()
    if hasattr(model, "reference"):
        model.reference = False
    return labels, logits.detach(), grad


def export(model, x, path, dynamo, train=False, external=False, dynamic=True):
    model.train(train)
    kwargs = dict(input_names=["x"], output_names=["logits"], opset_version=20)
    if dynamo:
        kwargs["dynamo"] = True
        kwargs["external_data"] = external
        if dynamic:
            kwargs["dynamic_shapes"] = {"x": {0: torch.export.Dim("batch", min=1, max=1024)}}
    else:
        kwargs["dynamo"] = False
        if train:
            kwargs["training"] = torch.onnx.TrainingMode.TRAINING
            kwargs["do_constant_folding"] = False
        if dynamic:
            kwargs["dynamic_axes"] = {"x": {0: "batch"}, "logits": {0: "batch"}}
    torch.onnx.export(model, (x,), path, **kwargs)
    model.eval()


def write_case(folder, name, model, x, dynamo, train=False, external=False, dynamic=True, reference64=False):
    path = os.path.join(folder, name + ".onnx")
    export(model, x, path, dynamo, train=train, external=external, dynamic=dynamic)
    labels, logits, grad = references(model, x, train)
    np.save(os.path.join(folder, name + ".input.npy"), x.numpy().astype("<f4"))
    np.save(os.path.join(folder, name + ".labels.npy"), labels.numpy().astype("<f4"))
    np.save(os.path.join(folder, name + ".logits.npy"), logits.numpy().astype("<f4"))
    np.save(os.path.join(folder, name + ".grad.npy"), grad.numpy().astype("<f4"))
    if reference64:
        # The float64 gradient of the same weights: how far float32 itself is from exact on this model.
        model64 = copy.deepcopy(model).double()
        _, _, grad64 = references(model64, x.double(), train)
        np.save(os.path.join(folder, name + ".grad64.npy"), grad64.numpy())
    print(json.dumps({"case": name, "bytes": os.path.getsize(path), "dynamo": dynamo, "train": train}))


def fixtures(folder):
    os.makedirs(folder, exist_ok=True)
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    cnn = SmallCNNBN()
    randomise_batch_norm(cnn, g)
    x8 = torch.rand(4, 3, 8, 8, generator=g)
    write_case(folder, "cnn_bn_folded", cnn, x8, dynamo=False)
    write_case(folder, "cnn_bn_eval", cnn, x8, dynamo=True)
    write_case(folder, "cnn_bn_train", cnn, x8, dynamo=False, train=True)
    res = ResidualNet()
    randomise_batch_norm(res, g)
    write_case(folder, "residual_static", res, x8, dynamo=True, dynamic=False)
    write_case(folder, "branches", Branches(), x8, dynamo=False)
    ext = os.path.join(folder, "external")
    os.makedirs(ext, exist_ok=True)
    write_case(ext, "model", cnn, x8, dynamo=True, external=True)


def zoo(folder):
    import torchvision.models as tv
    os.makedirs(folder, exist_ok=True)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    big = torch.rand(2, 3, 224, 224, generator=g)
    small = torch.rand(4, 3, 32, 32, generator=g)
    models = {"resnet18": (tv.resnet18(), big), "resnet50": (tv.resnet50(), big), "vgg11_bn": (tv.vgg11_bn(), big),
              "mobilenet_v2": (tv.mobilenet_v2(), big), "densenet121": (tv.densenet121(), big),
              "wrn28_10": (WideResNet(), small)}
    for name, (model, x) in models.items():
        randomise_batch_norm(model, g)
        model.eval()
        for dynamo in (True, False):
            write_case(folder, f"{name}_{'dynamo' if dynamo else 'legacy'}", model, x, dynamo=dynamo, reference64=True)
    write_case(folder, "resnet18_train", models["resnet18"][0], big, dynamo=False, train=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["fixtures", "zoo"])
    p.add_argument("folder")
    a = p.parse_args()
    torch.set_num_threads(2)
    (fixtures if a.what == "fixtures" else zoo)(a.folder)
