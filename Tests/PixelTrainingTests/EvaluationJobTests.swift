import Foundation
import Testing
import _TestSupport
import PixelData
import PixelNN
import PixelTensor
@testable import PixelTraining

@Suite("Sharded evaluation merges into the single run's folder")
struct EvaluationJobTests {
  @Test("every file of the merged shards equals the single run's, byte for byte", arguments: [1, 2, 5])
  func mergeIsTheSingleRun(_ shards: Int) throws {
    let model = try Model(spec: TrainingTests.spec, seed: 3)
    let data = TrainingTests.halves(37, seed: 9)
    let (whole, merged) = try wholeAndMerged(shards, "evaluate-shards", run: { shard, folder in
      let (report, bad) = try EvaluationJob(batchSize: 8, shard: shard).run(model: model, modelName: "m", data: data, into: folder)
      guard shard == nil else { return }
      #expect(report.count == 37 && bad == 0)
      // The folder's report is the library's evaluation of the same data.
      let direct = evaluate(model, on: data, batchSize: 8).report
      #expect(report.accuracy == direct.accuracy && report.confusion == direct.confusion)
      #expect(Swift.abs(report.meanLoss - direct.meanLoss) < 1e-5)
    }, merge: { try EvaluationJob.merge($0, into: $1) })
    #expect(try resultFiles(merged) == resultFiles(whole))
  }

  @Test("a part with damaged outcomes is refused with its file named")
  func damagedOutcomes() throws {
    let model = try Model(spec: TrainingTests.spec, seed: 3)
    let data = TrainingTests.halves(20, seed: 9)
    let root = temporaryFolder("evaluate-damaged")
    let parts = try (0..<2).map { i -> URL in
      let folder = root.appendingPathComponent("part\(i)")
      _ = try EvaluationJob(batchSize: 8, shard: try Shard(index: i, count: 2)).run(model: model, modelName: "m", data: data, into: folder)
      return folder
    }
    // Rewrite part 1's outcomes with a wrong index and a fresh manifest: the merge reads the rows themselves.
    let identity = try FolderManifest.verify(folder: parts[1]).identity
    let csv = parts[1].appendingPathComponent("outcomes.csv")
    let text = try String(contentsOf: csv, encoding: .utf8).replacingOccurrences(of: "\n16,", with: "\n17,")
    try AtomicFile.write(Data(text.utf8), to: csv)
    try FolderManifest.write(folder: parts[1], files: ["report.json", "report.md", "logits.npy", "outcomes.csv"], identity: identity)
    #expect(throws: CSVError.self) { try EvaluationJob.merge(parts, into: root.appendingPathComponent("merged")) }
  }
}
