import Foundation
import PixelTensor

/// The IDX format of MNIST, Fashion-MNIST and EMNIST: a magic number `00 00 08 nd` (unsigned
/// bytes, `nd` dimensions), `nd` big-endian `UInt32` extents, then the bytes. Raw or gzipped.
public enum IDX {
  /// The largest payload an IDX file may announce (2³¹ bytes, far above EMNIST's 700 MB).
  public static let maximumBytes = 1 << 31

  /// The extents and bytes of an IDX file of unsigned bytes. The header is read and checked
  /// first; the payload is read only up to what it announces (checked without overflow and
  /// against ``maximumBytes``), so a tiny or hostile file never allocates more than it holds.
  public static func read(_ url: URL, expectedRank: Int? = nil) throws -> (dims: [Int], bytes: ArraySlice<UInt8>) {
    let reader = try GzipFile.Reader(url)
    let head = try reader.read(upTo: 4)
    guard head.count == 4 else { throw DataError.truncated(path: url.path, detail: "\(head.count) bytes, no IDX header") }
    guard head[0] == 0, head[1] == 0 else {
      throw DataError.badMagic(path: url.path, detail: String(format: "magic starts %02x %02x, expected 00 00", head[0], head[1]))
    }
    guard head[2] == 0x08 else {
      throw DataError.badMagic(path: url.path, detail: String(format: "element type 0x%02x, expected 0x08 (unsigned byte)", head[2]))
    }
    let rank = Int(head[3])
    if let expectedRank, rank != expectedRank {
      throw DataError.badMagic(path: url.path, detail: "\(rank) dimensions, expected \(expectedRank)")
    }
    let extents = try reader.read(upTo: 4 * rank)
    guard extents.count == 4 * rank else { throw DataError.truncated(path: url.path, detail: "header needs \(4 + 4 * rank) bytes") }
    let dims = (0..<rank).map { (k: Int) -> Int in
      extents[(4 * k)..<(4 * k + 4)].reduce(0) { ($0 << 8) | Int($1) }
    }
    guard let expected = Shape.checkedCount(dims, limit: maximumBytes) else {
      throw DataError.badMagic(path: url.path, detail: "extents \(dims) announce more than \(maximumBytes) bytes")
    }
    let payload = try reader.read(upTo: expected)
    guard payload.count == expected else {
      throw DataError.truncated(path: url.path, detail: "extents \(dims) need \(expected) bytes, file has \(payload.count)")
    }
    guard try reader.read(upTo: 1).isEmpty else {
      throw DataError.truncated(path: url.path, detail: "unexpected bytes after the \(expected) announced")
    }
    return (dims, payload[...])
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
    let classes = try classNames ?? inferredClasses(ys, labels: labels)
    return Dataset(name: "\(name):\(split.rawValue)", images: Tensor(values, shape: [n, 1, h, w]), labels: ys,
                   classNames: classes)
  }

  /// Classes `0…max label` of an unnamed data set, if every class from the smallest label to
  /// the largest has an example: a stray label 255 in a 10-class file must not make a
  /// 256-class data set. Classes below the smallest label may be empty (EMNIST letters count
  /// from 1).
  static func inferredClasses(_ labels: [Int], labels url: URL) throws -> [String] {
    let count = (labels.max() ?? 0) + 1
    var seen = [Bool](repeating: false, count: count)
    for y in labels { seen[y] = true }
    let empty = seen.indices.filter { !seen[$0] && $0 > (labels.min() ?? 0) }
    guard empty.isEmpty else {
      throw DataError.classGap(path: url.path, detail: "labels span 0…\(count - 1) but \(empty.count) of those classes have no example "
                               + "(\(empty.prefix(5).map(String.init).joined(separator: ", "))\(empty.count > 5 ? ", …" : "")): "
                               + "a stray label? The classes are inferred from the labels, which must cover 0..<K")
    }
    return (0..<count).map(String.init)
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
