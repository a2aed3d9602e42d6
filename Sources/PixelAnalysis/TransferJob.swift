import Foundation
import PixelAttacks
import PixelData
import PixelNN
import PixelTensor

/// `pixelrobust transfer` as a library job: the transfer matrix of a data set (or one shard of
/// it) as a folder, and the merge of shard folders into the folder a single run writes.
///
/// The folder holds `matrix.json`, `matrix.csv`, `matrix.md`, `matrix.png`, `counts.json` (the
/// white-box outcomes and transfer counts a merge adds up) and `manifest.json`.
public struct TransferJob {
  /// The ``PartialResult`` kind of a shard's folder.
  public static let kind = "transfer"

  public var settings: AttackSettings
  /// Only this part of the data set (whole batches), or all of it.
  public var shard: Shard?

  /// A job crafting with the one bounded attack of `settings`, optionally on one shard.
  public init(settings: AttackSettings, shard: Shard? = nil) {
    self.settings = settings; self.shard = shard
  }

  /// Crafts on every model over `data` (or the shard's part) and writes the folder.
  /// - Returns: the Markdown matrix.
  public func run(models: [(name: String, model: Model)], data: Dataset, into folder: URL, progress: (String) -> Void = { _ in },
                  imagesDone: (Int, Int) -> Void = { _, _ in }) throws -> String {
    let (range, part) = data.part(shard, batchSize: settings.batchSize)
    let attack = try settings.attacks()[0]
    let counts = try TransferMatrix.Counts.measure(models: models, data: part, first: range.lowerBound, probe: data,
                                                   attack: attack, norm: settings.norm, epsilons: settings.epsilons,
                                                   targeted: settings.targeted, runner: settings.runner, progress: progress,
                                                   imagesDone: imagesDone)
    let job = ["models": models.map(\.name).joined(separator: ","),
               "model_hashes": models.map { Checkpoint.contentHash(of: $0.model) }.joined(separator: ","), "attack": attack.name,
               "data": data.name, "examples": String(data.count), "settings": "\(settings)"]
    let identity = shard.map { PartialResult(kind: Self.kind, shard: $0, range: range, examples: data.count, job: job).manifestIdentity } ?? job
    let matrix = TransferMatrix(counts, models: models.map(\.name), data: data.name, attack: attack.name, norm: settings.norm,
                                epsilons: settings.epsilons, targeted: settings.targeted)
    try AtomicFile.writeJSON(counts, to: folder.appendingPathComponent("counts.json"))
    return try matrix.write(to: folder, identity: identity, alongside: ["counts.json"])
  }

  /// Merges shard folders into `folder`: the files one unsharded run writes, byte for byte.
  /// - Throws: ``PartialResultError`` for a foreign, repeated or missing shard,
  ///   ``FolderManifestError`` for an unfinished one, ``CSVError`` for damaged counts.
  @discardableResult
  public static func merge(_ folders: [URL], into folder: URL) throws -> String {
    let parts = try PartialResult.collect(folders)
    guard parts[0].part.kind == kind else { throw PartialResultError.unsupportedKind(folder: parts[0].folder.path, kind: parts[0].part.kind) }
    let first = parts[0].folder.appendingPathComponent("matrix.json")
    guard let template = try? JSONDecoder().decode(TransferMatrix.self, from: FileBytes.read(first)) else {
      throw CSVError.malformed(path: first.path, detail: "not a transfer matrix")
    }
    var all: [TransferMatrix.Counts] = []
    for (shardFolder, part) in parts {
      let url = shardFolder.appendingPathComponent("counts.json")
      guard let counts = try? JSONDecoder().decode(TransferMatrix.Counts.self, from: FileBytes.read(url)),
            counts.sources.count == template.models.count,
            counts.sources.allSatisfy({ s in
              s.whiteBox.holds(part.range.count) && s.correct.count == template.epsilons.count
                && s.correct.allSatisfy { $0.count == template.models.count && $0.allSatisfy { (0...part.range.count).contains($0) } }
            }),
            all.first.map({ zip($0.sources, counts.sources).allSatisfy { $0.whiteBox.hasTheRows(of: $1.whiteBox) && $0.randomized == $1.randomized } }) ?? true else {
        throw CSVError.malformed(path: url.path, detail: "not the transfer counts of \(part.range.count) examples of this job")
      }
      all.append(counts)
    }
    guard let norm = Norm(rawValue: template.norm) else { throw CSVError.malformed(path: first.path, detail: "norm \(template.norm)") }
    let counts = TransferMatrix.Counts.adding(all)
    let matrix = TransferMatrix(counts, models: template.models, data: template.data, attack: template.attack, norm: norm,
                                epsilons: template.epsilons.map { Float($0) }, targeted: template.targeted)
    try AtomicFile.writeJSON(counts, to: folder.appendingPathComponent("counts.json"))
    return try matrix.write(to: folder, identity: parts[0].part.job, alongside: ["counts.json"])
  }
}
