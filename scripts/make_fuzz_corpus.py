#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (Tests/PixelFuzzTargetsTests/Corpus/<target>/).

Optional and standard library only: the seeds are committed, this only shows how they were made.
Each corpus holds small valid files and a few near misses that reach deeper error paths.
"""
import gzip, json, os, struct, sys, zlib

root = sys.argv[1] if len(sys.argv) > 1 else "Tests/PixelFuzzTargetsTests/Corpus"

def put(target, name, data):
    os.makedirs(os.path.join(root, target), exist_ok=True)
    with open(os.path.join(root, target, name), "wb") as f:
        f.write(data)

def idx(dims, payload):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload

images = idx([3, 4, 4], bytes(range(48)))
put("idx", "images.idx", images)
put("idx", "labels.idx", idx([3], bytes([0, 1, 2])))
put("idx", "images.idx.gz", gzip.compress(images, mtime=0))
put("idx", "huge-extents.idx", bytes([0, 0, 8, 3]) + b"\xff\xff\xff\xff" * 3)
put("idx", "truncated.idx", images[:20])

record10 = bytes([3]) + bytes(i % 256 for i in range(3072))
put("cifar", "two-records.bin", record10 * 2)
put("cifar", "bad-label.bin", bytes([200]) + record10[1:])
put("cifar", "partial.bin", record10[:1000])

def png(width, height, rows, color_type=0):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    raw = b"".join(b"\x00" + r for r in rows)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
put("png", "gray-4x4.png", png(4, 4, [bytes([0, 85, 170, 255])] * 4))
put("png", "rgb-2x2.png", png(2, 2, [bytes(range(6)), bytes(range(6, 12))], color_type=2))
put("png", "huge-header.png", png(65535, 65535, [b"\x00"]))

def safetensors(entries, metadata=None):
    header, blob = {}, b""
    for name, dtype, shape, data in entries:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(data)]}
        blob += data
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + blob
floats = struct.pack("<4f", 1, 2, 3, 4)
put("safetensors", "f32.safetensors", safetensors([("w", "F32", [2, 2], floats)]))
put("safetensors", "f64.safetensors", safetensors([("abs_sum", "F64", [2], struct.pack("<2d", 1, 2))]))
put("safetensors", "overflow-shape.safetensors", safetensors([("w", "F32", [2**32, 2**32, 4], floats)]))
put("safetensors", "overlap.safetensors", safetensors([("a", "F32", [2], floats[:8]), ("b", "F32", [2], floats[:8])])[:-8])

def npy(descr, shape, data):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    header += " " * (-(len(header) + 11) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data
put("npy", "f4.npy", npy("<f4", "(2, 2)", floats))
put("npy", "u1.npy", npy("|u1", "(3,)", b"\x01\x02\x03"))
put("npy", "negative.npy", npy("<f4", "(-28, -28)", floats))

small_cnn = {"format": "pixelrobust-model/1", "input": [1, 8, 8], "classes": 2, "layers": [
    {"type": "conv2d", "name": "conv", "out": 2, "kernel": 3}, {"type": "relu"}, {"type": "maxpool2d", "kernel": 2},
    {"type": "flatten"}, {"type": "linear", "name": "fc", "out": 2}]}
put("model-spec", "small.json", json.dumps(small_cnn).encode())
defended = {"format": "pixelrobust-model/1", "input": [1, 8, 8], "classes": 2, "layers": [
    {"type": "random_resize_pad", "min_size": 6},
    {"type": "switch", "name": "switch", "chain": 2, "branches": [
        [{"type": "prm", "name": "prm", "pattern": "v0", "shift": [1, 0], "width": 2, "depth": 1},
         {"type": "flatten"}, {"type": "linear", "name": "fc", "out": 2}]]}]}
put("model-spec", "defended.json", json.dumps(defended).encode())
residual = {"format": "pixelrobust-model/1", "input": [2, 4, 4], "classes": 2, "layers": [
    {"type": "residual", "name": "r", "body": [{"type": "conv2d", "name": "c", "out": 2, "kernel": 3, "padding": 1},
                                               {"type": "batchnorm2d", "name": "bn"}]},
    {"type": "global_avgpool"}, {"type": "linear", "name": "fc", "out": 2}]}
put("model-spec", "residual.json", json.dumps(residual).encode())
put("model-spec", "huge-padding.json", json.dumps({**small_cnn, "layers": [
    {"type": "conv2d", "name": "c", "out": 2, "kernel": 3, "padding": 2**62}, {"type": "flatten"},
    {"type": "linear", "name": "fc", "out": 2}]}).encode())

linear = {"format": "pixelrobust-model/1", "input": [3], "classes": 2, "layers": [{"type": "linear", "name": "fc", "out": 2}]}
weights = [("fc.bias", "F32", [2], struct.pack("<2f", 0, 0)), ("fc.weight", "F32", [2, 3], struct.pack("<6f", *range(6)))]
put("checkpoint", "linear.safetensors", safetensors(weights, {"pixelrobust.model": json.dumps(linear)}))
put("checkpoint", "nan.safetensors", safetensors([weights[0], ("fc.weight", "F32", [2, 3], struct.pack("<6f", 0, float("nan"), 0, 0, 0, 0))],
                                                  {"pixelrobust.model": json.dumps(linear)}))
put("checkpoint", "no-spec.safetensors", safetensors(weights))
