import Foundation
import PixelTensor

/// The IDX format of MNIST, Fashion-MNIST and EMNIST: a magic number `00 00 08 nd` (unsigned
/// bytes, `nd` dimensions), `nd` big-endian `UInt32` extents, then the bytes. Raw or gzipped.
public enum IDX {
  /// The extents and bytes of an IDX file of unsigned bytes.
  public static func read(_ url: URL, expectedRank: Int? = nil) throws -> (dims: [Int], bytes: ArraySlice<UInt8>) {
    let data = try GzipFile.read(url)
    guard data.count >= 4 else { throw DataError.truncated(path: url.path, detail: "\(data.count) bytes, no IDX header") }
    guard data[0] == 0, data[1] == 0 else {
      throw DataError.badMagic(path: url.path, detail: String(format: "magic starts %02x %02x, expected 00 00", data[0], data[1]))
    }
    guard data[2] == 0x08 else {
      throw DataError.badMagic(path: url.path, detail: String(format: "element type 0x%02x, expected 0x08 (unsigned byte)", data[2]))
    }
    let rank = Int(data[3])
    if let expectedRank, rank != expectedRank {
      throw DataError.badMagic(path: url.path, detail: "\(rank) dimensions, expected \(expectedRank)")
    }
    let headerSize = 4 + 4 * rank
    guard data.count >= headerSize else { throw DataError.truncated(path: url.path, detail: "header needs \(headerSize) bytes") }
    var dims: [Int] = []
    for k in 0..<rank {
      let o = 4 + 4 * k
      dims.append(Int(data[o]) << 24 | Int(data[o + 1]) << 16 | Int(data[o + 2]) << 8 | Int(data[o + 3]))
    }
    let expected = dims.reduce(1, *)
    guard data.count - headerSize >= expected else {
      throw DataError.truncated(path: url.path, detail: "extents \(dims) need \(expected) bytes, file has \(data.count - headerSize)")
    }
    guard data.count - headerSize == expected else {
      throw DataError.truncated(path: url.path, detail: "\(data.count - headerSize - expected) unexpected bytes after the data")
    }
    return (dims, data[headerSize...])
  }

  /// Writes unsigned bytes as IDX (gzipped when the name ends in `.gz`), atomically.
  public static func write(dims: [Int], bytes: [UInt8], to url: URL) throws {
    precondition(dims.reduce(1, *) == bytes.count, "extents \(dims) do not match \(bytes.count) bytes")
    var out: [UInt8] = [0, 0, 0x08, UInt8(dims.count)]
    for d in dims { out += [UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)] }
    out += bytes
    try GzipFile.write(out, to: url, compressed: url.pathExtension == "gz")
  }

  /// Loads the images and labels of `split` from `directory` (files named like
  /// `train-images-idx3-ubyte[.gz]`, `t10k-labels-idx1-ubyte[.gz]` or EMNIST's
  /// `emnist-<set>-train-images-idx3-ubyte[.gz]`; EMNIST images are stored transposed and are
  /// turned upright).
  public static func dataset(directory: URL, split: Split, name: String, classNames: [String]? = nil) throws -> Dataset {
    let images = try find(directory, split: split, kind: "images-idx3-ubyte")
    let labels = try find(directory, split: split, kind: "labels-idx1-ubyte")
    let (dims, pixels) = try read(images, expectedRank: 3)
    let (ldims, labelBytes) = try read(labels, expectedRank: 1)
    guard dims[0] == ldims[0] else {
      throw DataError.countMismatch(images: images.path, imageCount: dims[0], labels: labels.path, labelCount: ldims[0])
    }
    guard dims[0] > 0 else { throw DataError.empty(path: images.path, reason: "no images") }
    let (n, h, w) = (dims[0], dims[1], dims[2])
    let transposed = images.lastPathComponent.lowercased().contains("emnist")
    var values = [Float](repeating: 0, count: n * h * w)
    pixels.withUnsafeBufferPointer { src in
      for i in 0..<n {
        for y in 0..<h {
          for x in 0..<w {
            let s = transposed ? i * h * w + x * h + y : i * h * w + y * w + x
            values[i * h * w + y * w + x] = Float(src[s]) / 255
          }
        }
      }
    }
    let ys = labelBytes.map(Int.init)
    let classes = classNames ?? (0...(ys.max() ?? 0)).map(String.init)
    if let bad = ys.first(where: { $0 >= classes.count }) {
      throw DataError.badMagic(path: labels.path, detail: "label \(bad) outside 0..<\(classes.count)")
    }
    return Dataset(name: "\(name):\(split.rawValue)", images: Tensor(values, shape: [n, 1, h, w]), labels: ys,
                   classNames: classes)
  }

  static func find(_ directory: URL, split: Split, kind: String) throws -> URL {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else {
      throw DataError.missing(path: directory.path, what: "IDX folder")
    }
    let tags = split == .train ? ["train"] : ["t10k", "test"]
    let matches = names.filter { n in
      tags.contains { tag in n.hasSuffix("\(tag)-\(kind)") || n.hasSuffix("\(tag)-\(kind).gz") }
    }.sorted()
    guard let first = matches.first else {
      throw DataError.missing(path: directory.path, what: "\(split == .train ? "train" : "t10k")-\(kind)[.gz]")
    }
    // The same file raw and gzipped is not ambiguous: prefer the raw one.
    let distinct = Set(matches.map { $0.hasSuffix(".gz") ? String($0.dropLast(3)) : $0 })
    guard distinct.count == 1 else { throw DataError.ambiguous(path: directory.path, candidates: matches) }
    return directory.appendingPathComponent(matches.first { !$0.hasSuffix(".gz") } ?? first)
  }
}
