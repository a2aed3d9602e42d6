import Foundation
import PixelData
import PixelNN
import PixelTensor

/// `pixelrobust evaluate --output DIR` as a library job: the report of a data set (or of one
/// shard of it) as a folder, and the merge of shard folders into the folder a single run writes.
///
/// The folder holds `report.json`, `report.md`, `logits.npy` (`[N, classes]`) and `outcomes.csv`
/// (`index,label,prediction,loss`, global indices, losses printed so they read back exactly),
/// then `manifest.json`.
public struct EvaluationJob {
  /// The ``PartialResult`` kind of a shard's folder.
  public static let kind = "evaluate"

  public var batchSize: Int
  /// Only this part of the data set (whole batches), or all of it.
  public var shard: Shard?

  /// A job in batches of `batchSize`, optionally for one shard.
  public init(batchSize: Int = 256, shard: Shard? = nil) {
    precondition(batchSize >= 1, "batch size must be positive")
    self.batchSize = batchSize
    self.shard = shard
  }

  /// Evaluates `data` (or the shard's part) and writes the folder.
  /// - Returns: the report of what was evaluated (the part's, for a shard) and how many of its
  ///   logits are NaN or infinite.
  public func run(model: Model, modelName: String, data: Dataset, into folder: URL,
                  progress: (Int, Int) -> Void = { _, _ in }) throws -> (report: EvaluationReport, nonFiniteLogits: Int) {
    let (range, part) = data.part(shard, batchSize: batchSize)
    let outcomes = EvaluationOutcomes.compute(model, on: part, batchSize: batchSize, progress: progress)
    let job = ["model": modelName, "model_hash": Checkpoint.contentHash(of: model), "data": data.name,
               "examples": String(data.count), "class_names": data.classNames.joined(separator: "\n"),
               "batch_size": String(batchSize)]
    let identity = shard.map { PartialResult(kind: Self.kind, shard: $0, range: range, examples: data.count, job: job).manifestIdentity } ?? job
    let report = try Self.write(outcomes, first: range.lowerBound, data: data.name, classNames: data.classNames,
                                identity: identity, to: folder)
    return (report, outcomes.logits.scalars.filter { !$0.isFinite }.count)
  }

  static func write(_ outcomes: EvaluationOutcomes, first: Int, data: String, classNames: [String],
                    identity: [String: String], to folder: URL) throws -> EvaluationReport {
    let report = outcomes.report(data: data, classNames: classNames)
    try AtomicFile.writeJSON(report, to: folder.appendingPathComponent("report.json"))
    try AtomicFile.write(Data((report.summary + "\n").utf8), to: folder.appendingPathComponent("report.md"))
    try NumPy.write(outcomes.logits, to: folder.appendingPathComponent("logits.npy"))
    var lines = ["index,label,prediction,loss"]
    for n in outcomes.labels.indices {
      lines.append("\(first + n),\(outcomes.labels[n]),\(outcomes.predictions[n]),\(outcomes.losses[n])")
    }
    try AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: folder.appendingPathComponent("outcomes.csv"))
    try FolderManifest.write(folder: folder, files: ["report.json", "report.md", "logits.npy", "outcomes.csv"], identity: identity)
    return report
  }

  /// Merges shard folders into `folder`: the files one unsharded run writes, byte for byte.
  /// - Throws: ``PartialResultError`` for a foreign, repeated or missing shard,
  ///   ``FolderManifestError`` for an unfinished one, ``CSVError`` for damaged outcomes.
  @discardableResult
  public static func merge(_ folders: [URL], into folder: URL) throws -> EvaluationReport {
    let parts = try PartialResult.collect(folders)
    guard parts[0].part.kind == kind else { throw PartialResultError.unsupportedKind(folder: parts[0].folder.path, kind: parts[0].part.kind) }
    let outcomes = try parts.map { try read($0.folder, range: $0.part.range) }
    let job = parts[0].part.job
    let names = (job["class_names"] ?? "").isEmpty ? [] : (job["class_names"] ?? "").components(separatedBy: "\n")
    return try write(.concatenating(outcomes), first: 0, data: job["data"] ?? "?", classNames: names, identity: job, to: folder)
  }

  /// A part's outcomes, checked against the range its identity claims.
  static func read(_ folder: URL, range: Range<Int>) throws -> EvaluationOutcomes {
    let csv = folder.appendingPathComponent("outcomes.csv")
    let rows = try CSVTable.read(csv, header: "index,label,prediction,loss", columns: 4)
    guard rows.count == range.count else { throw CSVError.malformed(path: csv.path, detail: "\(rows.count) rows for examples \(range)") }
    var labels: [Int] = [], predictions: [Int] = [], losses: [Double] = []
    for (n, row) in rows.enumerated() {
      guard let index = Int(row[0]), index == range.lowerBound + n, let label = Int(row[1]), let predicted = Int(row[2]),
            let loss = Double(row[3]) else {
        throw CSVError.malformed(path: csv.path, detail: "row \(n + 2) is not example \(range.lowerBound + n)'s outcome")
      }
      labels.append(label); predictions.append(predicted); losses.append(loss)
    }
    let logitsURL = folder.appendingPathComponent("logits.npy")
    let logits = try NumPy.read(from: logitsURL)
    guard logits.rank == 2, logits.shape[0] == rows.count, predictions.allSatisfy({ $0 >= 0 && $0 < logits.shape[1] }) else {
      throw CSVError.malformed(path: logitsURL.path, detail: "logits \(logits.shape) do not fit \(rows.count) outcomes")
    }
    return EvaluationOutcomes(labels: labels, predictions: predictions, losses: losses, logits: logits)
  }
}
