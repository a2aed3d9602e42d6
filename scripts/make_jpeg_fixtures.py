#!/usr/bin/env python3
"""Writes the JPEG fixtures of Tests/PixelImagingTests/Fixtures (optional; needs Pillow, numpy, torchvision).

Small JPEGs (RGB 4:2:0 and 4:4:4, grayscale), Pillow's decoded pixels (NAME.decoded.npy, uint8
HWC) and torchvision's Resize(S) + CenterCrop(C) of each on the PIL image (NAME.rS_cC.npy, uint8
HWC), the references for our decoder and resampler.

  python3 scripts/make_jpeg_fixtures.py Tests/PixelImagingTests/Fixtures
"""
import os, sys

import numpy as np
from PIL import Image
import torchvision.transforms as T


def main(folder):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:31, 0:45]
    rgb = np.stack([(xx * 5) % 256, (yy * 8) % 256, ((xx + yy) * 3) % 256], -1).astype(np.uint8)
    rgb = np.clip(rgb.astype(int) + rng.integers(-20, 20, rgb.shape), 0, 255).astype(np.uint8)
    gray = np.clip((np.mgrid[0:33, 0:20][0] * 7 + rng.integers(0, 30, (33, 20))), 0, 255).astype(np.uint8)
    cases = {"rgb420": (Image.fromarray(rgb), 4), "rgb444": (Image.fromarray(rgb), 0), "gray": (Image.fromarray(gray, "L"), 0)}
    for name, (image, subsampling) in cases.items():
        path = os.path.join(folder, name + ".jpg")
        image.save(path, quality=85, subsampling=subsampling)
        decoded = Image.open(path)
        decoded.load()
        np.save(os.path.join(folder, name + ".decoded.npy"), np.asarray(decoded))
        for size, crop in [(24, 20), (10, 9), (64, 50)]:
            out = T.CenterCrop(crop)(T.Resize(size)(decoded))
            np.save(os.path.join(folder, f"{name}.r{size}_c{crop}.npy"), np.asarray(out))


if __name__ == "__main__":
    main(sys.argv[1])
