import Foundation
import Testing
import PixelTensor
import _TestSupport

/// Encoders and decoders over random shapes, and every truncation of valid files.
@Suite("I/O properties: round trips and damaged files")
struct IOPropertyTests {
  static func randomShape(_ rng: inout SeededGenerator) -> [Int] {
    let rank = Int(rng.next() % 5)
    return (0..<rank).map { _ in Int(rng.next() % 5) }
  }

  @Test("safetensors (F32 and F64) and .npy read back what was written, for random shapes including empty ones")
  func roundTrips() throws {
    var rng = SeededGenerator(seed: 21)
    let folder = temporaryFolder("io-properties")
    for trial in 0..<40 {
      let shapes = (0..<(1 + trial % 3)).map { _ in Self.randomShape(&rng) }
      var tensors: [String: Tensor] = [:]
      for (i, s) in shapes.enumerated() { tensors["t\(i).w"] = Tensor.normal(Shape(s), using: &rng) }
      let url = folder.appendingPathComponent("\(trial).safetensors")
      try SafeTensors.write(tensors, metadata: ["trial": "\(trial)"], to: url)
      let back = try SafeTensors.read(from: url)
      #expect(back.metadata["trial"] == "\(trial)")
      for (k, t) in tensors {
        #expect(back.tensors[k]?.shape == t.shape && back.tensors[k]?.scalars.map(\.bitPattern) == t.scalars.map(\.bitPattern))
      }
      let values = (0..<Shape(shapes[0]).elementCount).map { _ in Double(rng.nextUnitFloat()) * 1e300 }
      let f64 = folder.appendingPathComponent("\(trial).f64.safetensors")
      try SafeTensors.writeFloat64(["a": (shapes[0], values)], to: f64)
      let read = try SafeTensors.readFloat64(from: f64).arrays["a"]
      #expect(read?.shape == shapes[0] && read?.values == values)
      let npy = folder.appendingPathComponent("\(trial).npy")
      try NumPy.write(tensors["t0.w"]!, to: npy)
      let array = try NumPy.read(from: npy)
      #expect(array.shape == tensors["t0.w"]!.shape && array.scalars.map(\.bitPattern) == tensors["t0.w"]!.scalars.map(\.bitPattern))
    }
  }

  /// Every valid file of this bundle, with the reader that must refuse each of its truncations.
  static func damagedFileCases() throws -> [(String, Data, (URL) throws -> Void)] {
    var rng = SeededGenerator(seed: 4)
    let tensors = ["a": Tensor.normal([3, 2], using: &rng), "b": Tensor.normal([5], using: &rng)]
    return [
      ("tiny_cnn.safetensors", SafeTensors.encode(SharedFixtures.tinyCNN.tensors, metadata: SharedFixtures.tinyCNN.metadata),
       { _ = try SafeTensors.read(from: $0) }),
      ("random.safetensors", SafeTensors.encode(tensors, metadata: ["k": "v"]), { _ = try SafeTensors.read(from: $0) }),
      ("random.npy", NumPy.encode(tensors["a"]!), { _ = try NumPy.read(from: $0) }),
    ]
  }

  @Test("every truncation of a valid file is a typed error naming it; byte flips never trap")
  func damagedFiles() throws {
    let folder = temporaryFolder("io-damage")
    for (name, data, read) in try Self.damagedFileCases() {
      let url = folder.appendingPathComponent(name)
      for cut in stride(from: 0, to: data.count, by: Swift.max(1, data.count / 97)) {
        try data.prefix(cut).write(to: url)
        do {
          try read(url)
          Issue.record("\(name) cut to \(cut) of \(data.count) bytes was accepted")
        } catch let e as CustomStringConvertible {
          #expect(e.description.contains(url.path), "\(name) cut to \(cut): \(e)")
        }
      }
      var rng = SeededGenerator(seed: 8)
      for _ in 0..<64 {
        var flipped = data
        flipped[Int(rng.next() % UInt64(data.count))] ^= UInt8(1 + rng.next() % 255)
        try flipped.write(to: url)
        do { try read(url) } catch let e as CustomStringConvertible {
          #expect(e.description.contains(url.path), "\(name) with a flipped byte: \(e)")
        }
      }
    }
  }
}

@Suite("Folder manifests")
struct FolderManifestTests {
  @Test("a manifest verifies its files and catches a changed, missing or unfinished set")
  func verify() throws {
    let folder = temporaryFolder("manifest")
    try Data("a".utf8).write(to: folder.appendingPathComponent("a.txt"))
    try Data("bb".utf8).write(to: folder.appendingPathComponent("b.txt"))
    let written = try FolderManifest.write(folder: folder, files: ["a.txt", "b.txt"], identity: ["model": "m"])
    #expect(try FolderManifest.verify(folder: folder) == written)
    #expect(written.files.map(\.bytes) == [1, 2])
    try Data("cc".utf8).write(to: folder.appendingPathComponent("b.txt"))
    #expect(throws: FolderManifestError.mismatch(folder: folder.path, detail: "b.txt changed since the manifest was written")) {
      try FolderManifest.verify(folder: folder)
    }
    try FileManager.default.removeItem(at: folder.appendingPathComponent("a.txt"))
    #expect(throws: FolderManifestError.mismatch(folder: folder.path, detail: "a.txt is missing")) {
      try FolderManifest.verify(folder: folder)
    }
    try FileManager.default.removeItem(at: folder.appendingPathComponent("manifest.json"))
    #expect(throws: FolderManifestError.missing(folder: folder.path)) { try FolderManifest.verify(folder: folder) }
  }
}
