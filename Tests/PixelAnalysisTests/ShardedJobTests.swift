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

  @Test("masked sweep: every file of the merged shards equals the single run's", arguments: [1, 3])
  func maskedSweep(_ shards: Int) throws {
    let model = Tiny.makeModel()
    let data = Tiny.halves(23, seed: 8)
    let map = InputGradientMap.accumulate(model: model, data: data).meanAbsolute
    let sweep = MaskedSweep(kinds: MaskedSweep.Kind.allCases, percents: [10, 50], randomSeeds: 2)
    let (whole, merged) = try wholeAndMerged(shards, "sweep-shards", run: { shard, folder in
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
    let (whole, merged) = try wholeAndMerged(shards, "transfer-shards", run: { shard, folder in
      _ = try TransferJob(settings: Self.settings, shard: shard).run(models: [("a", a), ("b", b)], data: data, into: folder)
    }, merge: { try TransferJob.merge($0, into: $1) })
    #expect(try resultFiles(merged) == resultFiles(whole))
    let matrix = try JSONDecoder().decode(TransferMatrix.self, from: Data(contentsOf: merged.appendingPathComponent("matrix.json")))
    #expect(matrix.cells.count == 8 && matrix.whiteBox.allSatisfy { $0.results.allSatisfy { $0.count == 24 } })
  }

  /// Blanks the time per image: `secondsPerImage` in report.json, the s/image column of report.md.
  static func withoutTiming(_ name: String, _ data: Data) -> Data {
    let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
      if name == "report.json" && line.contains("\"secondsPerImage\"") { return "" }
      if name == "report.md" && line.hasPrefix("|") { return line.split(separator: "|", omittingEmptySubsequences: false).dropLast(2).joined(separator: "|") }
      return String(line)
    }
    return Data(lines.joined(separator: "\n").utf8)
  }

  @Test("minimal attacks: the merged shards' files equal the single run's but for the time per image", arguments: [1, 3])
  func minimalAttack(_ shards: Int) throws {
    let model = Tiny.makeModel()
    let data = Tiny.halves(22, seed: 5)
    var settings = AttackSettings(method: .deepFool, norm: .l2, batchSize: 5, seed: 2)
    settings.parameters.deepFoolSteps = 10
    let mask = Tensor((0..<64).map { Float($0 % 2) }, shape: [1, 1, 8, 8])
    let (whole, merged) = try wholeAndMerged(shards, "minimal-shards", run: { shard, folder in
      let report = try MinimalAttackJob(settings: settings, mask: mask, maskName: "odd", shard: shard)
        .run(model: model, modelName: "tiny", data: data, into: folder)
      #expect(report.results.allSatisfy { $0.maxOffMaskChange == 0 })
    }, merge: { try MinimalAttackJob.merge($0, into: $1) })
    let expected = try resultFiles(whole, ignoring: Self.withoutTiming), got = try resultFiles(merged, ignoring: Self.withoutTiming)
    #expect(got.keys.sorted() == expected.keys.sorted())
    for name in expected.keys.sorted() where name != "manifest.json" { #expect(got[name] == expected[name], "\(name)") }
  }
}
