import Foundation
import Testing
import PixelData
import PixelNN
import PixelTensor
import _TestSupport
@testable import PixelDefenses

@Suite("A certification job journals every batch and resumes to the same bytes")
struct CertificationJobTests {
  /// Ten 1×1×4 images and the linear model of the smoothing tests.
  static func setting() throws -> (Model, Dataset) {
    let model = try RandomizedSmoothingTests.linear(w: [1, -2, 0.5, 1], b: -0.2)
    var g = SeededGenerator(seed: 4)
    let x = Tensor.uniform([10, 1, 1, 4], using: &g)
    let labels = (0..<10).map { $0 % 2 }
    return (model, Dataset(name: "ten", images: x, labels: labels, classNames: ["a", "b"]))
  }

  static func job(_ folder: URL, samples: Int = 300, shard: Shard? = nil) throws -> CertificationJob {
    let (model, data) = try setting()
    let settings = { (s: Double) in
      CertificationRun.Settings(kind: .certify, sigma: s, samples: samples, selectionSamples: 20, batchSize: 3, seed: 5)
    }
    let mask = Tensor([1, 1, 0, 0], shape: [1, 1, 4])
    let regions = [CertificationJob.Region(label: "whole", mask: nil), CertificationJob.Region(label: "left", mask: mask)]
    return CertificationJob(runs: [0.25, 0.5].flatMap { s in regions.map { (settings(s), $0) } }, model: model, modelName: "linear",
                            data: data, output: folder, radii: [0.1, 0.2], shard: shard)
  }

  static func rows(_ folder: URL) throws -> [String: String] {
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".csv") }
    return try Dictionary(uniqueKeysWithValues: names.map { name in
      // The seconds column is a measurement, not a result.
      let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
      return (name, text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).dropLast().joined(separator: ",") }
        .joined(separator: "\n"))
    })
  }

  @Test("a job killed mid-run and resumed writes the rows of an uninterrupted one")
  func resumes() throws {
    let whole = temporaryFolder("certify-whole"), cut = temporaryFolder("certify-cut")
    defer { try? FileManager.default.removeItem(at: whole); try? FileManager.default.removeItem(at: cut) }
    let summary = try Self.job(whole).run(resume: false)
    #expect(summary.contains("| left | 0.5 |") && summary.contains("certified at 0.1 | 0.2 |"))
    let reference = try Self.rows(whole)
    #expect(reference.keys.sorted() == ["certify_sigma0.25_left.csv", "certify_sigma0.25_whole.csv", "certify_sigma0.5_left.csv",
                                        "certify_sigma0.5_whole.csv"])

    // The journal as a kill after the second batch of the third run leaves it.
    var journal = try JSONDecoder().decode(CertificationJob.Journal.self, from: Data(contentsOf: Self.job(whole).journalURL))
    #expect(journal.finished.count == 4 && journal.partial.isEmpty)
    journal.partial = Array(journal.finished[2].rows.prefix(6))
    journal.finished = Array(journal.finished.prefix(2))
    try FileManager.default.createDirectory(at: cut, withIntermediateDirectories: true)
    try JSONEncoder().encode(journal).write(to: Self.job(cut).journalURL)
    var notes: [String] = []
    try Self.job(cut).run(resume: true, note: { notes.append($0) })
    #expect(notes.first == "resuming: 2 of 4 runs finished, 6 images of the next")
    #expect(try Self.rows(cut) == reference)
    let runs = try JSONDecoder().decode([CertificationRun].self, from: Data(contentsOf: cut.appendingPathComponent("summary.json")))
    #expect(runs.map(\.label) == ["whole", "left", "whole", "left"] && runs.map(\.maskFraction) == [1, 0.5, 1, 0.5])
  }

  /// Blanks what measures time rather than results: each row's seconds, each run's
  /// secondsPerImage and the summary table's s/image column.
  static func withoutTiming(_ name: String, _ data: Data) -> Data {
    let text = String(decoding: data, as: UTF8.self)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
      if name.hasSuffix(".csv") { return line.split(separator: ",", omittingEmptySubsequences: false).dropLast().joined(separator: ",") }
      if name == "summary.md" { return line.split(separator: "|", omittingEmptySubsequences: false).dropLast(2).joined(separator: "|") }
      if name == "summary.json" && line.contains("\"secondsPerImage\"") { return "" }
      return String(line)
    }
    return Data(lines.joined(separator: "\n").utf8)
  }

  @Test("shards merge into the single job's files (but for timing), with global row indices and per-example noise",
        arguments: [1, 2, 4])
  func shardsMerge(_ shards: Int) throws {
    var table = ""
    let (whole, merged) = try wholeAndMerged(shards, "certify-shards", run: { shard, folder in
      try Self.job(folder, shard: shard).run(resume: false)
    }, merge: { table = try CertificationJob.merge($0, into: $1) })
    #expect(table.contains("| left | 0.5 |"))
    let expected = try resultFiles(whole, ignoring: Self.withoutTiming)
    let got = try resultFiles(merged, ignoring: Self.withoutTiming)
    #expect(got.keys.sorted() == expected.keys.sorted())
    for name in expected.keys.sorted() where name != FolderManifest.fileName { #expect(got[name] == expected[name], "\(name)") }
    #expect(try FolderManifest.verify(folder: merged).identity == FolderManifest.verify(folder: whole).identity)
    // Another batch size splits the data differently but draws each example's noise the same.
    let (model, data) = try Self.setting()
    let settings = CertificationRun.Settings(kind: .certify, sigma: 0.25, samples: 300, selectionSamples: 20, batchSize: 4, seed: 5)
    let run = try CertificationRun.run(settings, model: model, modelName: "linear", data: data, mask: nil)
    let csv = try String(contentsOf: whole.appendingPathComponent("certify_sigma0.25_whole.csv"), encoding: .utf8)
    let expectedRows = csv.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).dropLast().joined(separator: ",") }
    let rows = run.rows.map { r in "\(r.index),\(r.label),\(r.prediction.map(String.init) ?? ""),\(r.pLower.map { "\($0)" } ?? ""),"
      + "\(r.radius.map { "\($0)" } ?? ""),\(r.prediction == nil ? 1 : 0)" }
    #expect(rows == expectedRows)
  }

  @Test("a journal of other settings is refused on resume; a fresh run replaces it")
  func refusesForeignJournals() throws {
    let folder = temporaryFolder("certify-foreign")
    defer { try? FileManager.default.removeItem(at: folder) }
    try Self.job(folder, samples: 100).run(resume: false)
    #expect {
      try Self.job(folder, samples: 200).run(resume: true)
    } throws: { error in
      "\(error)".contains("journal.json: the journal belongs to another job") && "\(error)".contains("\"samples\":100")
    }
    try Self.job(folder, samples: 200).run(resume: false)
    let runs = try JSONDecoder().decode([CertificationRun].self, from: Data(contentsOf: folder.appendingPathComponent("summary.json")))
    #expect(runs.allSatisfy { $0.settings.samples == 200 })
    try Data("{".utf8).write(to: folder.appendingPathComponent("journal.json"))
    #expect { try Self.job(folder).run(resume: true) } throws: { "\($0)".contains("cannot read the journal") }
  }
}

@Suite("Smoothed inference under transfer and adaptive attacks")
struct SmoothedAttackEvaluationTests {
  static func settings(epsilon: Double, seed: UInt64 = 1) -> SmoothedAttackEvaluation.Settings {
    SmoothedAttackEvaluation.Settings(sigma: 0.25, samples: 16, modes: [.vote, .probability], epsilon: epsilon, steps: 5,
                                      stepSize: 0.05, attackSamples: 4, evaluations: 3, batchSize: 4, seed: seed)
  }

  @Test("ε = 0 gives clean accuracy in every column; attacks stay within ε; the same seed gives the same report")
  func invariants() throws {
    let (model, data) = try CertificationJobTests.setting()
    let zero = try SmoothedAttackEvaluation.run(Self.settings(epsilon: 0), model: model, modelName: "linear", data: data)
    #expect(zero.rows.count == 9 && zero.maxPerturbation == 0 && zero.count == 10)
    let base = zero.rows.filter { $0.classifier == "base" }
    #expect(Set(base.map(\.accuracy)).count == 1 && base.allSatisfy { $0.std == 0 }, "\(base)")
    let attacked = try SmoothedAttackEvaluation.run(Self.settings(epsilon: 0.2), model: model, modelName: "linear", data: data)
    #expect(attacked.maxPerturbation <= 0.2 + 1e-6 && attacked.maxPerturbation > 0.1)
    let accuracy = { (r: SmoothedAttackEvaluation, c: String, s: String) in r.rows.first { $0.classifier == c && $0.images == s }!.accuracy }
    #expect(accuracy(attacked, "base", "transfer") <= accuracy(attacked, "base", "clean"))
    #expect(accuracy(attacked, "probability", "epgd") <= accuracy(attacked, "probability", "clean"))
    let again = try SmoothedAttackEvaluation.run(Self.settings(epsilon: 0.2), model: model, modelName: "linear", data: data)
    #expect(again.rows == attacked.rows)
    #expect(attacked.markdown().contains("| smoothed, probability |"))
  }

  @Test("an adaptive attack weaker than the transfer one is reported, within noise it is not")
  func weakAdaptiveAttack() {
    let row = { (images: String, accuracy: Double, std: Double) in
      SmoothedAttackEvaluation.Row(classifier: "soft", images: images, accuracy: accuracy, std: std)
    }
    let weak = SmoothedAttackEvaluation.weakAdaptiveAttacks([row("transfer", 0.3, 0.01), row("epgd", 0.4, 0.01)], images: 500)
    #expect(weak.count == 1 && weak[0].hasPrefix("soft: the adaptive EPGD leaves 40.0% accurate"))
    #expect(SmoothedAttackEvaluation.weakAdaptiveAttacks([row("transfer", 0.3, 0.03), row("epgd", 0.35, 0.03)], images: 500).isEmpty)
  }
}
