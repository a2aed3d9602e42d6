#!/usr/bin/env python3
"""Imports every M.onnx of a folder written by export_onnx_models.py and compares with PyTorch.

Optional (needs numpy only). For each model: `pixelrobust import --onnx`, then `pixelrobust
forward` on M.input.npy (training mode for *_train cases), and prints one JSON line with the
logits' max |Δ| relative to max |logit| (bar 1e-4), the worst per-example input-gradient
relative errors ‖g − g_ref‖₂ / ‖g_ref‖₂ (bar 1e-3) and ‖g − g_ref‖∞ / ‖g_ref‖∞ (reported: a single
max-pool window whose two largest inputs lie within float32 rounding of each other routes its
gradient differently in any two float32 implementations), both sides' distance from the float64
gradient when M.grad64.npy exists, and the import time.

  python3 scripts/onnx_parity.py .build/release/pixelrobust DIR
"""
import glob, json, os, subprocess, sys, tempfile, time

import numpy as np


def main(binary, folder):
    failed = False
    with tempfile.TemporaryDirectory() as work:
        for path in sorted(glob.glob(os.path.join(folder, "**", "*.onnx"), recursive=True)):
            base = path[:-5]
            name = os.path.relpath(base, folder).replace("/", "_")
            model = os.path.join(work, name + ".safetensors")
            t0 = time.time()
            subprocess.run([binary, "import", "--onnx", path, "--output", model], check=True, stdout=subprocess.DEVNULL)
            seconds = time.time() - t0
            logits, grads = os.path.join(work, name + ".logits.npy"), os.path.join(work, name + ".grad.npy")
            cmd = [binary, "forward", "--model", model, "--images", base + ".input.npy", "--labels", base + ".labels.npy",
                   "--logits", logits, "--input-gradients", grads]
            if name.endswith("_train"):
                cmd.append("--training")
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            ours_l, ref_l = np.load(logits), np.load(base + ".logits.npy")
            ours_g, ref_g = np.load(grads), np.load(base + ".grad.npy")
            logit_err = float(np.abs(ours_l - ref_l).max() / np.abs(ref_l).max())
            grad_err = max(float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30)) for a, b in zip(ours_g, ref_g))
            grad_l2 = max(float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30)) for a, b in zip(ours_g, ref_g))
            ok = logit_err <= 1e-4 and grad_l2 <= 1e-3
            extra = {}
            if os.path.exists(base + ".grad64.npy"):
                exact = np.load(base + ".grad64.npy")
                l2 = lambda a, b: max(float(np.linalg.norm(x - y) / np.linalg.norm(y)) for x, y in zip(a, b))
                extra = {"ours_vs_f64_l2": l2(ours_g, exact), "torch_vs_f64_l2": l2(ref_g, exact)}
            failed |= not ok
            print(json.dumps({"model": name, "logits_rel": logit_err, "grad_rel_inf": grad_err, "grad_rel_l2": grad_l2, "import_s": round(seconds, 3),
                              "ok": ok, **extra}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
