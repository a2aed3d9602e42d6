import Foundation
import Testing
import PixelImaging
import PixelTensor
@testable import PixelData
import _TestSupport

func temporaryDirectory() -> URL { temporaryFolder("pixeldata") }

@Suite("IDX files (MNIST, Fashion-MNIST, EMNIST layouts)")
struct IDXTests {
  static func writeSplit(_ dir: URL, prefix: String = "", tag: String, n: Int, gz: Bool, labels: [UInt8]? = nil) throws {
    let pixels = (0..<(n * 4 * 3)).map { UInt8(($0 * 7) % 256) }
    let ext = gz ? ".gz" : ""
    try IDX.write(dims: [n, 4, 3], bytes: pixels, to: dir.appendingPathComponent("\(prefix)\(tag)-images-idx3-ubyte\(ext)"))
    try IDX.write(dims: [labels?.count ?? n], bytes: labels ?? (0..<n).map { UInt8($0 % 3) },
                  to: dir.appendingPathComponent("\(prefix)\(tag)-labels-idx1-ubyte\(ext)"))
  }

  @Test("raw and gzipped IDX load to the same pixels in [0, 1]", arguments: [false, true])
  func load(gz: Bool) throws {
    let dir = temporaryDirectory()
    try Self.writeSplit(dir, tag: "t10k", n: 5, gz: gz)
    let data = try DataSource.idx(dir).load(split: .test)
    #expect(data.images.shape == [5, 1, 4, 3])
    #expect(data.labels == [0, 1, 2, 0, 1])
    #expect(data.images.scalars[1] == Float(7) / 255)
    #expect(data.classNames == ["0", "1", "2"])
    #expect(try DataSource.idx(dir).load(split: .test, limit: 2).count == 2)
  }

  @Test("EMNIST images are stored transposed and turned upright")
  func emnistTransposed() throws {
    let dir = temporaryDirectory()
    try IDX.write(dims: [1, 2, 3], bytes: [0, 1, 2, 3, 4, 5], to: dir.appendingPathComponent("emnist-letters-train-images-idx3-ubyte"))
    try IDX.write(dims: [1], bytes: [1], to: dir.appendingPathComponent("emnist-letters-train-labels-idx1-ubyte"))
    let data = try DataSource.idx(dir).load(split: .train)
    // Stored column-major: element (y, x) sits at x·h + y.
    #expect(data.images.scalars.map { Int(($0 * 255).rounded()) } == [0, 2, 4, 1, 3, 5])
  }

  struct Broken: Sendable, CustomTestStringConvertible {
    let name: String
    let make: @Sendable (URL) throws -> Void
    let check: @Sendable (DataError) -> Bool
    var testDescription: String { name }
  }

  static let broken: [Broken] = [
    Broken(name: "truncated images", make: { dir in
      try writeSplit(dir, tag: "train", n: 4, gz: false)
      let url = dir.appendingPathComponent("train-images-idx3-ubyte")
      let d = try Data(contentsOf: url)
      try d.prefix(d.count - 5).write(to: url)
    }, check: { if case .truncated(let p, _) = $0 { return p.hasSuffix("train-images-idx3-ubyte") } else { return false } }),
    Broken(name: "wrong magic", make: { dir in
      try writeSplit(dir, tag: "train", n: 2, gz: false)
      let url = dir.appendingPathComponent("train-labels-idx1-ubyte")
      var d = try Data(contentsOf: url)
      d[2] = 0x0D
      try d.write(to: url)
    }, check: { if case .badMagic = $0 { return true } else { return false } }),
    Broken(name: "image/label count mismatch", make: { dir in
      try writeSplit(dir, tag: "train", n: 3, gz: true, labels: [0, 1])
    }, check: { if case .countMismatch(_, 3, _, 2) = $0 { return true } else { return false } }),
    Broken(name: "missing files", make: { _ in }, check: { if case .missing = $0 { return true } else { return false } }),
    Broken(name: "corrupt gzip", make: { dir in
      try writeSplit(dir, tag: "train", n: 40, gz: true)
      let url = dir.appendingPathComponent("train-images-idx3-ubyte.gz")
      let d = try Data(contentsOf: url)
      try d.prefix(d.count / 2).write(to: url)
    }, check: { if case .truncated = $0 { return true } else { return false } }),
  ]

  @Test("bad IDX data gives a typed error naming the file", arguments: broken)
  func brokenFiles(_ b: Broken) throws {
    let dir = temporaryDirectory()
    try b.make(dir)
    do {
      _ = try DataSource.idx(dir).load(split: .train)
      Issue.record("\(b.name): loaded")
    } catch let e as DataError {
      #expect(b.check(e), "\(b.name): \(e)")
      #expect(e.description.contains(dir.path))
    }
  }
}

@Suite("CIFAR binary and PNG folders")
struct CIFARAndFolderTests {
  static func record(label: [UInt8], value: UInt8) -> [UInt8] { label + [UInt8](repeating: value, count: 3072) }

  @Test("CIFAR-10 and CIFAR-100 records load with the right labels and planes")
  func cifar() throws {
    let dir = temporaryDirectory()
    try Data(Self.record(label: [3], value: 255) + Self.record(label: [9], value: 0)).write(to: dir.appendingPathComponent("test_batch.bin"))
    let ten = try DataSource.cifar10(dir).load(split: .test)
    #expect(ten.images.shape == [2, 3, 32, 32] && ten.labels == [3, 9] && ten.classNames[3] == "cat")
    #expect(ten.images.scalars[0] == 1 && ten.images.scalars[3072] == 0)
    let hundred = temporaryDirectory()
    try Data(Self.record(label: [1, 42], value: 51)).write(to: hundred.appendingPathComponent("train.bin"))
    let h = try DataSource.cifar100(hundred).load(split: .train)
    #expect(h.labels == [42] && h.classCount == 100 && h.images.scalars[5] == 0.2)
    try Data(Self.record(label: [1], value: 0).dropLast(10)).write(to: dir.appendingPathComponent("test_batch.bin"))
    #expect(throws: DataError.self) { try DataSource.cifar10(dir).load(split: .test) }
    #expect(throws: DataError.self) { try DataSource.cifar10(dir).load(split: .train) }
  }

  @Test("a PNG folder loads classes in sorted order and converts channels")
  func folder() throws {
    let root = temporaryDirectory()
    for (cls, value) in [("cat", UInt8(255)), ("ant", UInt8(0))] {
      let dir = root.appendingPathComponent(cls)
      try PNG.write(Image(width: 3, height: 2, channels: 1, bytes: [UInt8](repeating: value, count: 6)), to: dir.appendingPathComponent("a.png"))
      try PNG.write(Image(width: 3, height: 2, channels: 3, bytes: [UInt8](repeating: value, count: 18)), to: dir.appendingPathComponent("b.png"))
    }
    let data = try DataSource.folder(root).load(split: .train)
    #expect(data.classNames == ["ant", "cat"])
    #expect(data.labels == [0, 0, 1, 1])
    #expect(data.images.shape == [4, 3, 2, 3])
    let gray = try DataSource.folder(root).load(split: .test, channels: 1)
    #expect(gray.images.shape == [4, 1, 2, 3] && Swift.abs(gray.images.scalars.last! - 1) < 1e-6)
  }

  @Test("folder problems: mixed sizes, corrupt PNG, no classes")
  func folderErrors() throws {
    let root = temporaryDirectory()
    let dir = root.appendingPathComponent("a")
    try PNG.write(Image(width: 2, height: 2, channels: 1, bytes: [0, 0, 0, 0]), to: dir.appendingPathComponent("1.png"))
    try PNG.write(Image(width: 3, height: 2, channels: 1, bytes: [0, 0, 0, 0, 0, 0]), to: dir.appendingPathComponent("2.png"))
    #expect { try DataSource.folder(root).load(split: .train) } throws: {
      if case .mixedSizes = $0 as? DataError { return true } else { return false }
    }
    try FileManager.default.removeItem(at: dir.appendingPathComponent("2.png"))
    try Data([1, 2, 3]).write(to: dir.appendingPathComponent("3.png"))
    #expect { try DataSource.folder(root).load(split: .train) } throws: {
      if case .unreadableImage(let p, _) = $0 as? DataError { return p.hasSuffix("3.png") } else { return false }
    }
    #expect { try DataSource.folder(temporaryDirectory()).load(split: .train) } throws: {
      if case .empty = $0 as? DataError { return true } else { return false }
    }
  }

  @Test("a folder of JPEGs and PNGs of different sizes loads once resized and centre-cropped")
  func jpegFolder() throws {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("PixelImagingTests/Fixtures")
    let root = temporaryDirectory()
    for (cls, file) in [("a", "rgb420.jpg"), ("b", "gray.jpg")] {
      let dir = root.appendingPathComponent(cls)
      try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
      try FileManager.default.copyItem(at: fixtures.appendingPathComponent(file), to: dir.appendingPathComponent("x.JPG"))
    }
    try PNG.write(Image(width: 40, height: 12, channels: 3, bytes: [UInt8](repeating: 9, count: 1440)),
                  to: root.appendingPathComponent("a/y.png"))
    #expect { try DataSource.folder(root).load(split: .test) } throws: {
      if case .mixedSizes(_, let detail) = $0 as? DataError { return detail.contains("--resize") } else { return false }
    }
    let data = try DataSource.folder(root).load(split: .test, preprocessing: .init(resize: 24, centerCrop: 20))
    #expect(data.images.shape == [3, 3, 20, 20] && data.labels == [0, 0, 1])
    #expect(data.name.hasSuffix("(resize 24, crop 20)"))
    let reference = try NumPy.read(from: fixtures.appendingPathComponent("rgb420.r24_c20.npy")).scalars
    // The first image, channel 0 (CHW), against torchvision's HWC bytes.
    let first = (0..<400).map { data.images.scalars[$0] }
    #expect(zip(first, stride(from: 0, to: 1200, by: 3).map { reference[$0] / 255 }).allSatisfy { Swift.abs($0 - $1) < 1e-6 })
    #expect { try DataSource.folder(root).load(split: .test, preprocessing: .init(centerCrop: 20)) } throws: {
      if case .unreadableImage(_, let reason) = $0 as? DataError { return reason.contains("does not fit") } else { return false }
    }
  }

  @Test("data sources parse, and bad ones are rejected")
  func sources() throws {
    #expect(try DataSource(parsing: "fashion-mnist") == .fashionMNIST)
    #expect(try DataSource(parsing: "cifar10:/x") == .cifar10(URL(fileURLWithPath: "/x")))
    #expect(throws: DataError.self) { try DataSource(parsing: "mnist") }
    #expect(throws: DataError.self) { try DataSource(parsing: "idx:") }
  }
}

@Suite("Mini-batches and augmentation")
struct BatchTests {
  let data = Dataset(name: "d", images: Tensor.arange(0, 10).reshaped(to: [10, 1, 1, 1]), labels: Array(0..<10),
                     classNames: (0..<10).map(String.init))

  @Test("seeded shuffling is reproducible and covers every example once")
  func shuffling() {
    let a = MiniBatches(data, batchSize: 3, shuffleSeed: 7).map(\.labels)
    let b = MiniBatches(data, batchSize: 3, shuffleSeed: 7).map(\.labels)
    #expect(a == b)
    #expect(a.flatMap { $0 }.sorted() == Array(0..<10))
    #expect(a.map(\.count) == [3, 3, 3, 1])
    #expect(MiniBatches(data, batchSize: 3, shuffleSeed: 8).map(\.labels) != a)
    #expect(MiniBatches(data, batchSize: 4, dropLast: true).count == 2)
    for (x, y) in MiniBatches(data, batchSize: 3, shuffleSeed: 7) { #expect(x.scalars == y.map(Float.init)) }
  }

  @Test("flips mirror rows; crops shift within zero padding")
  func augmentation() {
    let image = Tensor([1, 2, 3, 4, 5, 6], shape: [1, 1, 2, 3])
    var rng = SeededGenerator(seed: 1)
    var flipped = 0
    for _ in 0..<20 {
      let y = Augmentation(horizontalFlip: true).apply(image, using: &rng)
      #expect(y.scalars == [1, 2, 3, 4, 5, 6] || y.scalars == [3, 2, 1, 6, 5, 4])
      if y.scalars.first == 3 { flipped += 1 }
    }
    #expect(flipped > 0 && flipped < 20)
    let cropped = Augmentation(cropPadding: 1).apply(image, using: &rng)
    #expect(Set(cropped.scalars).isSubset(of: [0, 1, 2, 3, 4, 5, 6]))
    #expect(Augmentation().apply(image, using: &rng).scalars == image.scalars)
  }
}
