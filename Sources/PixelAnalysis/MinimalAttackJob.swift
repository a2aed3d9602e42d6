import Foundation
import PixelAttacks
import PixelData
import PixelNN
import PixelTensor

/// `pixelrobust attack --output DIR` for a minimal attack (DeepFool, C&W, JSMA) as a library job:
/// per-example smallest perturbations and the curve they imply, for a data set or one shard of
/// it, written by ``AttackCurves/write(_:title:identity:to:)``, and the merge of shard folders
/// into the folder a single run writes (identical but for the time per image).
public struct MinimalAttackJob {
  /// The ``PartialResult`` kind of a shard's folder.
  public static let kind = "minimal-attack"

  public var settings: AttackSettings
  /// The pixels the attack may change (`nil`: all) and its name on the command line.
  public var mask: Tensor?
  public var maskName: String?
  /// Only this part of the data set (whole batches), or all of it.
  public var shard: Shard?

  /// A job running the minimal attack of `settings` inside `mask`, optionally on one shard.
  public init(settings: AttackSettings, mask: Tensor? = nil, maskName: String? = nil, shard: Shard? = nil) {
    self.settings = settings; self.mask = mask; self.maskName = maskName; self.shard = shard
  }

  /// Attacks `data` (or the shard's part) and writes the folder.
  /// - Parameter onBatch: attack name, clean images, adversarial images and labels of every batch.
  /// - Returns: the report of what was attacked (the part's, for a shard).
  public func run(model: Model, modelName: String, data: Dataset, into folder: URL, progress: (String) -> Void = { _ in },
                  imagesDone: (Int, Int) -> Void = { _, _ in },
                  onBatch: (String, Tensor, Tensor, [Int]) -> Void = { _, _, _, _ in }) throws -> MinimalAttackReport {
    let (range, part) = data.part(shard, batchSize: settings.batchSize)
    let attack = try settings.minimalAttack()
    let report = MinimalAttackReport.evaluate([attack], model: model, modelName: modelName, data: part,
                                              first: range.lowerBound, domain: try PixelDomain(mask: mask), targeted: settings.targeted,
                                              runner: settings.minimalRunner, progress: progress, imagesDone: imagesDone, onBatch: onBatch)
    var job = AttackJob.identity(settings: settings, mask: mask, maskName: maskName, model: model, modelName: modelName, data: data)
    job["title"] = "\(attack.name) on \(data.name) (\(data.count) images)"
    let identity = shard.map { PartialResult(kind: Self.kind, shard: $0, range: range, examples: data.count, job: job).manifestIdentity } ?? job
    _ = try AttackCurves.write(report, title: job["title"]!, identity: identity, to: folder)
    return report
  }

  /// Merges shard folders into `folder`: the files one unsharded run writes, but for the time
  /// per image (the mean of the shards').
  /// - Throws: ``PartialResultError`` for a foreign, repeated or missing shard,
  ///   ``FolderManifestError`` for an unfinished one, ``CSVError`` for a damaged report.
  @discardableResult
  public static func merge(_ folders: [URL], into folder: URL) throws -> MinimalAttackReport {
    let parts = try PartialResult.collect(folders)
    guard parts[0].part.kind == kind else { throw PartialResultError.unsupportedKind(folder: parts[0].folder.path, kind: parts[0].part.kind) }
    let job = parts[0].part.job
    let reports = try parts.map { shardFolder, part -> MinimalAttackReport in
      let url = shardFolder.appendingPathComponent("report.json")
      guard let r = try? JSONDecoder().decode(MinimalAttackReport.self, from: FileBytes.read(url)),
            r.results.allSatisfy({ $0.count == part.range.count }) else {
        throw CSVError.malformed(path: url.path, detail: "not the minimal-attack report of \(part.range.count) examples")
      }
      return r
    }
    guard let report = MinimalAttackReport.merging(reports, data: job["data"] ?? "?") else {
      throw CSVError.malformed(path: parts[0].folder.path, detail: "the shards' reports are of different attacks")
    }
    _ = try AttackCurves.write(report, title: job["title"] ?? "minimal attack", identity: job, to: folder)
    return report
  }
}
