import Foundation
import Testing
import PixelTensor
@testable import PixelData

@Suite("Shards: contiguous whole-batch parts, and the checks a merge makes on their folders")
struct ShardTests {
  @Test("the shards of a data set tile it in order, each starting on a batch boundary",
        arguments: [(0, 4, 3), (1, 4, 3), (10, 4, 3), (12, 4, 3), (13, 4, 3), (40, 6, 8), (100, 1, 7), (5, 10, 2), (1_000_003, 256, 97)])
  func tiling(_ total: Int, _ batchSize: Int, _ count: Int) throws {
    var next = 0
    var sizes: [Int] = []
    for i in 0..<count {
      let r = try Shard(index: i, count: count).range(of: total, batchSize: batchSize)
      #expect(r.lowerBound == next)
      #expect(r.lowerBound % batchSize == 0 || r.lowerBound == total)
      next = r.upperBound
      sizes.append((r.count + batchSize - 1) / batchSize)
    }
    #expect(next == total)
    // Batches spread evenly: no shard has more than one batch more than another.
    #expect((sizes.max() ?? 0) - (sizes.min() ?? 0) <= 1)
  }

  @Test("i/n parses only as two decimal numbers with 0 ≤ i < n ≤ 2^20")
  func parsing() throws {
    #expect(try Shard(parsing: "2/5") == Shard(index: 2, count: 5))
    #expect(try Shard(parsing: "0/1") == .whole)
    for bad in ["5/5", "-1/5", "1/0", "1/2/3", "1", "/2", "1/", " 1/2", "1/ 2", "+1/2", "1/1048577", "١/٢", "1/99999999999999999999"] {
      #expect(throws: ShardError.invalid(bad), "\(bad)") { try Shard(parsing: bad) }
    }
  }

  /// A finished part folder of a toy job.
  static func part(_ root: URL, _ name: String, kind: String = "toy", shard: String, range: Range<Int>, examples: Int = 10,
                   job: [String: String] = ["model_hash": "abc", "seed": "1"]) throws -> URL {
    let folder = root.appendingPathComponent(name)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try AtomicFile.write(Data("\(range)".utf8), to: folder.appendingPathComponent("rows.txt"))
    let p = PartialResult(kind: kind, shard: try Shard(parsing: shard), range: range, examples: examples, job: job)
    try FolderManifest.write(folder: folder, files: ["rows.txt"], identity: p.manifestIdentity)
    return folder
  }

  @Test("collect returns the parts in shard order and refuses foreign, repeated, missing, gapped and unfinished ones")
  func collect() throws {
    let root = temporaryDirectory()
    let a = try Self.part(root, "a", shard: "0/3", range: 0..<4)
    let b = try Self.part(root, "b", shard: "1/3", range: 4..<8)
    let c = try Self.part(root, "c", shard: "2/3", range: 8..<10)
    #expect(try PartialResult.collect([c, a, b]).map(\.folder) == [a, b, c])
    #expect(try PartialResult(folder: b) == PartialResult(kind: "toy", shard: Shard(index: 1, count: 3), range: 4..<8, examples: 10,
                                                          job: ["model_hash": "abc", "seed": "1"]))
    func refused(_ folders: [URL], _ expected: PartialResultError) {
      #expect(throws: expected) { try PartialResult.collect(folders) }
    }
    refused([], .noFolders)
    refused([a, b, b, c], .repeated(folder: b.path, shard: "1/3", previous: b.path))
    refused([a, c], .missing(["1/3"]))
    let seed = try Self.part(root, "seed", shard: "1/3", range: 4..<8, job: ["model_hash": "abc", "seed": "2"])
    refused([a, seed, c], .foreign(folder: seed.path, key: "seed", value: "2", reference: a.path, expected: "1"))
    let kind = try Self.part(root, "kind", kind: "other", shard: "1/3", range: 4..<8)
    refused([a, kind, c], .foreign(folder: kind.path, key: "kind", value: "other", reference: a.path, expected: "toy"))
    let four = try Self.part(root, "four", shard: "1/4", range: 4..<8)
    refused([a, four, c], .foreign(folder: four.path, key: "shard count", value: "4", reference: a.path, expected: "3"))
    let gap = try Self.part(root, "gap", shard: "1/3", range: 5..<8)
    refused([a, gap, c], .gap(folder: gap.path, detail: "starts at example 5, expected 4"))
    // A single run's folder has a manifest but no partial.* identity.
    let whole = root.appendingPathComponent("whole")
    try FileManager.default.createDirectory(at: whole, withIntermediateDirectories: true)
    try FolderManifest.write(folder: whole, files: [], identity: ["model_hash": "abc"])
    refused([whole], .notPartial(folder: whole.path))
    // A part whose file changed after its manifest, or without a manifest, is not accepted.
    try AtomicFile.write(Data("changed".utf8), to: b.appendingPathComponent("rows.txt"))
    #expect(throws: FolderManifestError.self) { try PartialResult.collect([a, b, c]) }
    try FileManager.default.removeItem(at: c.appendingPathComponent(FolderManifest.fileName))
    #expect(throws: FolderManifestError.missing(folder: c.path)) { try PartialResult(folder: c) }
  }

  @Test("stream generators depend on the seed and the index only, and differ between neighbours")
  func streams() {
    var a = SeededGenerator(seed: 7, stream: 41), b = SeededGenerator(seed: 7, stream: 41)
    #expect((0..<4).map { _ in a.next() } == (0..<4).map { _ in b.next() })
    var c = SeededGenerator(seed: 7, stream: 42), d = SeededGenerator(seed: 8, stream: 41), e = SeededGenerator(seed: 6, stream: 42)
    let first = SeededGenerator(seed: 7, stream: 41)
    var f = first
    let x = f.next()
    #expect(Set([x, c.next(), d.next(), e.next()]).count == 4)
  }
}
