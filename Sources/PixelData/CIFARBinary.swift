import Foundation
import PixelTensor

/// CIFAR-10 and CIFAR-100 in their binary versions: records of 1 (CIFAR-10) or 2 (CIFAR-100:
/// coarse, fine) label bytes followed by 3,072 bytes of 32×32 red, green and blue planes.
public enum CIFARBinary {
  public static let cifar10Classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

  /// Loads CIFAR-10 (`data_batch_1…5.bin`, `test_batch.bin`) from `directory` or its
  /// `cifar-10-batches-bin` subfolder.
  public static func cifar10(directory: URL, split: Split) throws -> Dataset {
    let root = resolve(directory, sub: "cifar-10-batches-bin", probe: "test_batch.bin")
    let files = split == .train ? (1...5).map { "data_batch_\($0).bin" } : ["test_batch.bin"]
    let (images, labels) = try records(files.map { root.appendingPathComponent($0) }, labelBytes: 1, labelIndex: 0)
    return Dataset(name: "cifar10:\(split.rawValue)", images: images, labels: labels, classNames: cifar10Classes)
  }

  /// Loads CIFAR-100 fine labels (`train.bin`, `test.bin`) from `directory` or its
  /// `cifar-100-binary` subfolder; class names come from `fine_label_names.txt` when present.
  public static func cifar100(directory: URL, split: Split) throws -> Dataset {
    let root = resolve(directory, sub: "cifar-100-binary", probe: "test.bin")
    let (images, labels) = try records([root.appendingPathComponent("\(split.rawValue).bin")], labelBytes: 2, labelIndex: 1)
    var names = (0..<100).map { "class \($0)" }
    if let text = try? String(contentsOf: root.appendingPathComponent("fine_label_names.txt"), encoding: .utf8) {
      let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
      if lines.count == 100 { names = lines }
    }
    return Dataset(name: "cifar100:\(split.rawValue)", images: images, labels: labels, classNames: names)
  }

  static func resolve(_ directory: URL, sub: String, probe: String) -> URL {
    let nested = directory.appendingPathComponent(sub)
    return FileManager.default.fileExists(atPath: nested.appendingPathComponent(probe).path) ? nested : directory
  }

  static func records(_ files: [URL], labelBytes: Int, labelIndex: Int) throws -> (Tensor, [Int]) {
    let recordSize = labelBytes + 3072
    var values: [Float] = []
    var labels: [Int] = []
    for url in files {
      guard FileManager.default.fileExists(atPath: url.path) else { throw DataError.missing(path: url.path, what: "CIFAR batch file") }
      let data: Data
      do { data = try FileBytes.read(url) } catch let e as FileReadError {
        throw DataError.unreadable(path: url.path, reason: e.reason)
      }
      guard !data.isEmpty else { throw DataError.empty(path: url.path, reason: "empty file") }
      guard data.count % recordSize == 0 else {
        throw DataError.truncated(path: url.path, detail: "\(data.count) bytes is not a whole number of \(recordSize)-byte records")
      }
      let n = data.count / recordSize
      values.reserveCapacity(values.count + n * 3072)
      data.withUnsafeBytes { raw in
        for r in 0..<n {
          let base = r * recordSize
          labels.append(Int(raw[base + labelIndex]))
          for i in 0..<3072 { values.append(Float(raw[base + labelBytes + i]) / 255) }
        }
      }
    }
    return (Tensor(values, shape: [labels.count, 3, 32, 32]), labels)
  }
}
