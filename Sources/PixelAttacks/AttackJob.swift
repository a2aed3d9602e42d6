import Foundation
import PixelData
import PixelNN
import PixelTensor

/// `pixelrobust attack --output DIR` for bounded attacks as a library job: the report of a data
/// set (or of one shard of it) as a folder, and the merge of shard folders into the folder a
/// single run writes, byte for byte.
///
/// The folder holds `report.json`, `report.md`, `outcomes.json` (every example's outcome, what a
/// merge concatenates) and `manifest.json`.
public struct AttackJob {
  /// The ``PartialResult`` kind of a shard's folder.
  public static let kind = "attack"

  public var settings: AttackSettings
  /// The pixels the attack may change (`nil`: all) and its name on the command line.
  public var mask: Tensor?
  public var maskName: String?
  /// Only this part of the data set (whole batches), or all of it.
  public var shard: Shard?

  /// A job attacking with `settings` inside `mask`, optionally on one shard.
  public init(settings: AttackSettings, mask: Tensor? = nil, maskName: String? = nil, shard: Shard? = nil) {
    self.settings = settings; self.mask = mask; self.maskName = maskName; self.shard = shard
  }

  /// Attacks `data` (or the shard's part) and writes the folder.
  /// - Parameters:
  ///   - progress: a line per attack and ε.
  ///   - imagesDone: after every batch, the images done in this attack and ε and the part's size.
  ///   - onBatch: ε, clean images, adversarial images and labels of every batch.
  /// - Returns: the report of what was attacked (the part's, for a shard).
  public func run(model: Model, modelName: String, data: Dataset, into folder: URL, progress: (String) -> Void = { _ in },
                  imagesDone: (Int, Int) -> Void = { _, _ in },
                  onBatch: (Float, Tensor, Tensor, [Int]) -> Void = { _, _, _, _ in }) throws -> AttackReport {
    let (range, part) = data.part(shard, batchSize: settings.batchSize)
    let outcomes = try AttackOutcomeSet.run(try settings.attacks(), model: model, data: part,
                                            first: range.lowerBound, norm: settings.norm, epsilons: settings.epsilons, mask: mask,
                                            targeted: settings.targeted, runner: settings.runner, progress: progress,
                                            imagesDone: imagesDone, onBatch: onBatch)
    // NOTE: the randomization probe reads the whole data set's first images, so every shard
    // records the single run's answer.
    let randomized = AttackReport.isRandomized(model, data: data)
    var job = Self.identity(settings: settings, mask: mask, maskName: maskName, model: model, modelName: modelName, data: data)
    job["randomized"] = String(randomized)
    let identity = shard.map { PartialResult(kind: Self.kind, shard: $0, range: range, examples: data.count, job: job).manifestIdentity } ?? job
    let report = AttackReport(outcomes, model: modelName, data: data.name, randomized: randomized)
    try Self.write(report, outcomes: outcomes, identity: identity, to: folder)
    return report
  }

  /// What every part of an attack job shares: the model's digest, the data set and its size,
  /// every setting and the seed, the mask's name and digest.
  public static func identity(settings: AttackSettings, mask: Tensor?, maskName: String?, model: Model, modelName: String,
                              data: Dataset) -> [String: String] {
    var job = ["model": modelName, "model_hash": Checkpoint.contentHash(of: model), "data": data.name,
               "examples": String(data.count), "settings": "\(settings)", "mask": maskName ?? "none"]
    job["mask_fnv1a64"] = mask?.fnv1a64
    return job
  }

  static func write(_ report: AttackReport, outcomes: AttackOutcomeSet, identity: [String: String], to folder: URL) throws {
    try AtomicFile.writeJSON(report, to: folder.appendingPathComponent("report.json"))
    try AtomicFile.write(Data(report.markdown.utf8), to: folder.appendingPathComponent("report.md"))
    try AtomicFile.writeJSON(outcomes, to: folder.appendingPathComponent("outcomes.json"))
    try FolderManifest.write(folder: folder, files: ["report.json", "report.md", "outcomes.json"], identity: identity)
  }

  /// Merges shard folders into `folder`: the files one unsharded run writes.
  /// - Throws: ``PartialResultError`` for a foreign, repeated or missing shard,
  ///   ``FolderManifestError`` for an unfinished one, ``CSVError`` for damaged outcomes.
  @discardableResult
  public static func merge(_ folders: [URL], into folder: URL) throws -> AttackReport {
    let parts = try PartialResult.collect(folders)
    guard parts[0].part.kind == kind else { throw PartialResultError.unsupportedKind(folder: parts[0].folder.path, kind: parts[0].part.kind) }
    var sets: [AttackOutcomeSet] = []
    for (shardFolder, part) in parts {
      let url = shardFolder.appendingPathComponent("outcomes.json")
      guard let set = try? JSONDecoder().decode(AttackOutcomeSet.self, from: FileBytes.read(url)), set.holds(part.range.count),
            sets.first.map(set.hasTheRows(of:)) ?? true else {
        throw CSVError.malformed(path: url.path, detail: "not the outcomes of \(part.range.count) examples of this attack run")
      }
      sets.append(set)
    }
    let job = parts[0].part.job
    let outcomes = AttackOutcomeSet.concatenating(sets)
    let report = AttackReport(outcomes, model: job["model"] ?? "?", data: job["data"] ?? "?", randomized: job["randomized"] == "true")
    try write(report, outcomes: outcomes, identity: job, to: folder)
    return report
  }
}
