import Foundation
import Testing
import _TestSupport
import PixelData
import PixelNN
import PixelTensor
@testable import PixelAttacks

@Suite("Sharded attacks merge into the single run's folder")
struct AttackJobTests {
  /// PGD with random starts (seeded per batch), an ensemble and the FGSM reference.
  static func settings(ensemble: Bool) -> AttackSettings {
    var s = AttackSettings(method: .pgd, norm: .lInfinity, epsilons: [0, 0.05, 0.1], steps: [5], stepSize: .absolute(0.02),
                           randomStart: true, restarts: 1, targeted: false, eotSamples: 1, classifications: 1, batchSize: 6, seed: 3)
    if ensemble { s.ensemble = [.fgsm, .pgd] }
    return s
  }

  @Test("every file of the merged shards equals the single run's, byte for byte",
        arguments: [(1, false), (3, false), (4, true)])
  func mergeIsTheSingleRun(_ shards: Int, _ ensemble: Bool) throws {
    let model = TinyModels.trained()
    let data = TinyModels.halves(26, seed: 5)
    let mask = Tensor((0..<64).map { Float($0 % 3 == 0 ? 1 : 0) }, shape: [1, 1, 8, 8])
    func job(_ shard: Shard?) -> AttackJob { AttackJob(settings: Self.settings(ensemble: ensemble), mask: mask, maskName: "thirds", shard: shard) }
    let (whole, merged) = try wholeAndMerged(shards, "attack-shards", run: { shard, folder in
      let report = try job(shard).run(model: model, modelName: "tiny", data: data, into: folder)
      guard shard == nil else { return }
      #expect(report.warnings.isEmpty, "\(report.warnings)")
      #expect(report.results.allSatisfy { $0.count == 26 && $0.maxOffMaskChange == 0 })
    }, merge: { try AttackJob.merge($0, into: $1) })
    #expect(try resultFiles(merged) == resultFiles(whole))
  }

  @Test("the report of a job equals the library evaluation of the same attacks")
  func jobIsTheEvaluation() throws {
    let model = TinyModels.trained()
    let data = TinyModels.halves(12, seed: 6)
    let s = Self.settings(ensemble: true)
    let report = try AttackJob(settings: s).run(model: model, modelName: "tiny", data: data, into: temporaryFolder("attack-job"))
    let direct = try AttackReport.evaluate(try s.attacks(), model: model, modelName: "tiny", data: data, norm: s.norm,
                                           epsilons: s.epsilons, mask: nil, targeted: false, runner: s.runner)
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    #expect(try encoder.encode(report) == encoder.encode(direct))
  }

  @Test("parts of another seed or settings are refused")
  func foreignParts() throws {
    let model = TinyModels.trained()
    let data = TinyModels.halves(12, seed: 6)
    let root = temporaryFolder("attack-foreign")
    var other = Self.settings(ensemble: false)
    other.seed = 4
    let a = root.appendingPathComponent("a"), b = root.appendingPathComponent("b")
    _ = try AttackJob(settings: Self.settings(ensemble: false), shard: try Shard(index: 0, count: 2))
      .run(model: model, modelName: "tiny", data: data, into: a)
    _ = try AttackJob(settings: other, shard: try Shard(index: 1, count: 2)).run(model: model, modelName: "tiny", data: data, into: b)
    do {
      try AttackJob.merge([a, b], into: root.appendingPathComponent("merged"))
      Issue.record("merged parts of two seeds")
    } catch let error as PartialResultError {
      guard case let .foreign(_, key, _, _, _) = error else { Issue.record("\(error)"); return }
      #expect(key == "settings")
    }
  }
}
