import Foundation
import Testing
import _TestSupport
import PixelAttacks
import PixelData
import PixelNN
import PixelTensor
@testable import PixelAnalysis

@Suite("Sharded masked sweeps and transfer matrices merge into the single run's folder")
struct ShardedJobTests {
  /// PGD with random starts, so every batch's stream matters.
  static let settings = AttackSettings(method: .pgd, norm: .lInfinity, epsilons: [0, 0.2], steps: [3], stepSize: .absolute(0.05),
                                       randomStart: true, batchSize: 5, seed: 4)

  /// Runs `job` whole and in `shards` parts, merges the parts and returns both folders.
  static func wholeAndMerged(_ shards: Int, _ name: String, run: (Shard?, URL) throws -> Void,
                             merge: ([URL], URL) throws -> Void) throws -> (whole: URL, merged: URL) {
    let root = temporaryFolder(name)
    let whole = root.appendingPathComponent("whole")
    try run(nil, whole)
    let parts = try (0..<shards).map { i -> URL in
      let folder = root.appendingPathComponent("part\(i)")
      try run(try Shard(index: i, count: shards), folder)
      return folder
    }
    let merged = root.appendingPathComponent("merged")
    try merge(parts.reversed(), merged)
    return (whole, merged)
  }

  @Test("masked sweep: every file of the merged shards equals the single run's", arguments: [1, 3])
  func maskedSweep(_ shards: Int) throws {
    let model = Tiny.makeModel()
    let data = Tiny.halves(23, seed: 8)
    let map = InputGradientMap.accumulate(model: model, data: data).meanAbsolute
    let sweep = MaskedSweep(kinds: MaskedSweep.Kind.allCases, percents: [10, 50], randomSeeds: 2)
    let (whole, merged) = try Self.wholeAndMerged(shards, "sweep-shards", run: { shard, folder in
      let (rows, _) = try MaskedSweepJob(sweep: sweep, settings: Self.settings, shard: shard)
        .run(model: model, modelName: "tiny", data: data, map: map, mapName: "G.npy", into: folder)
      #expect(rows.count == 12 && rows.allSatisfy { $0.maxOffMaskChange == 0 })
    }, merge: { try MaskedSweepJob.merge($0, into: $1) })
    #expect(try resultFiles(merged) == resultFiles(whole))
    // The job's table is the library sweep's.
    let direct = try sweep.run(model: model, data: data, map: map, attacks: try Self.settings.attacks(), norm: .lInfinity,
                               epsilons: Self.settings.epsilons, runner: Self.settings.runner)
    let table = try JSONDecoder().decode([MaskedSweep.Row].self, from: Data(contentsOf: whole.appendingPathComponent("table.json")))
    #expect(table.map(\.robustAccuracy) == direct.map(\.robustAccuracy))
  }

  @Test("transfer: every file of the merged shards equals the single run's", arguments: [1, 2, 5])
  func transfer(_ shards: Int) throws {
    let a = Tiny.makeModel(), b = try Model(spec: a.spec, seed: 7)
    let data = Tiny.halves(24, seed: 9)
    let (whole, merged) = try Self.wholeAndMerged(shards, "transfer-shards", run: { shard, folder in
      _ = try TransferJob(settings: Self.settings, shard: shard).run(models: [("a", a), ("b", b)], data: data, into: folder)
    }, merge: { try TransferJob.merge($0, into: $1) })
    #expect(try resultFiles(merged) == resultFiles(whole))
    let matrix = try JSONDecoder().decode(TransferMatrix.self, from: Data(contentsOf: merged.appendingPathComponent("matrix.json")))
    #expect(matrix.cells.count == 8 && matrix.whiteBox.allSatisfy { $0.results.allSatisfy { $0.count == 24 } })
  }
}
