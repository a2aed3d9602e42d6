import Foundation
import PixelAttacks
import PixelData
import PixelNN
import PixelTensor

/// `pixelrobust masked-sweep` as a library job: the sweep's tables for a data set (or one shard
/// of it) as a folder, and the merge of shard folders into the folder a single run writes.
///
/// The folder holds `table.json`, `table.csv`, `table.md`, `plot.png`, `outcomes.json` (every
/// cell's per-example outcomes, what a merge concatenates) and `manifest.json`.
public struct MaskedSweepJob {
  /// The ``PartialResult`` kind of a shard's folder.
  public static let kind = "masked-sweep"

  public var sweep: MaskedSweep
  public var settings: AttackSettings
  /// Only this part of the data set (whole batches), or all of it.
  public var shard: Shard?

  /// A job sweeping `sweep` with the attacks of `settings`, optionally on one shard.
  public init(sweep: MaskedSweep, settings: AttackSettings, shard: Shard? = nil) {
    self.sweep = sweep; self.settings = settings; self.shard = shard
  }

  /// Sweeps `data` (or the shard's part) with masks ranked by `map` and writes the folder.
  /// - Returns: the Markdown tables.
  public func run(model: Model, modelName: String, data: Dataset, map: Tensor, mapName: String, into folder: URL,
                  progress: (String) -> Void = { _ in }, imagesDone: (Int, Int) -> Void = { _, _ in }) throws -> (rows: [MaskedSweep.Row], markdown: String) {
    let (range, part) = data.part(shard, batchSize: settings.batchSize)
    let attacks = try settings.attacks()
    let cells = try sweep.outcomes(model: model, data: part, first: range.lowerBound, map: map, attacks: attacks,
                                   norm: settings.norm, epsilons: settings.epsilons, runner: settings.runner, progress: progress,
                                   imagesDone: imagesDone)
    let setting = attacks.count == 1 && settings.epsilons.count == 1
      ? "\(attacks[0].name) \(settings.norm.rawValue) eps=\(settings.epsilons[0])" : settings.norm.rawValue
    let job = ["model": modelName, "model_hash": Checkpoint.contentHash(of: model), "data": data.name,
               "examples": String(data.count), "map": mapName, "map_fnv1a64": map.fnv1a64, "settings": "\(settings)",
               "sweep": "\(sweep.kinds.map(\.rawValue)) \(sweep.percents) \(sweep.randomSeeds)",
               "title": "\(setting) on \(data.name) (\(data.count) images)"]
    let identity = shard.map { PartialResult(kind: Self.kind, shard: $0, range: range, examples: data.count, job: job).manifestIdentity } ?? job
    let rows = MaskedSweep.rows(cells)
    return (rows, try Self.write(cells, rows: rows, identity: identity, title: job["title"]!, to: folder))
  }

  static func write(_ cells: [MaskedSweep.CellOutcomes], rows: [MaskedSweep.Row], identity: [String: String], title: String,
                    to folder: URL) throws -> String {
    try AtomicFile.writeJSON(cells, to: folder.appendingPathComponent("outcomes.json"))
    return try MaskedSweep.write(rows, title: title, identity: identity, alongside: ["outcomes.json"], to: folder)
  }

  /// Merges shard folders into `folder`: the files one unsharded run writes, byte for byte.
  /// - Returns: the Markdown tables.
  /// - Throws: ``PartialResultError`` for a foreign, repeated or missing shard,
  ///   ``FolderManifestError`` for an unfinished one, ``CSVError`` for damaged outcomes.
  @discardableResult
  public static func merge(_ folders: [URL], into folder: URL) throws -> String {
    let parts = try PartialResult.collect(folders)
    guard parts[0].part.kind == kind else { throw PartialResultError.unsupportedKind(folder: parts[0].folder.path, kind: parts[0].part.kind) }
    var sets: [[MaskedSweep.CellOutcomes]] = []
    for (shardFolder, part) in parts {
      let url = shardFolder.appendingPathComponent("outcomes.json")
      guard let cells = try? JSONDecoder().decode([MaskedSweep.CellOutcomes].self, from: FileBytes.read(url)),
            cells.allSatisfy({ c in !c.masks.isEmpty && c.masks.allSatisfy { $0.holds(part.range.count) } }),
            sets.first.map({ Self.sameCells($0, cells) }) ?? true else {
        throw CSVError.malformed(path: url.path, detail: "not the sweep outcomes of \(part.range.count) examples of this job")
      }
      sets.append(cells)
    }
    let merged = sets[0].indices.map { c in
      var cell = sets[0][c]
      cell.masks = cell.masks.indices.map { m in AttackOutcomes.concatenating(sets.map { $0[c].masks[m] }) }
      return cell
    }
    let job = parts[0].part.job
    return try write(merged, rows: MaskedSweep.rows(merged), identity: job, title: job["title"] ?? "masked sweep", to: folder)
  }

  /// Whether two parts' cells are the same cells (attack, ε, kind, k, mask size and draws).
  static func sameCells(_ a: [MaskedSweep.CellOutcomes], _ b: [MaskedSweep.CellOutcomes]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { x, y in
      x.attack == y.attack && x.epsilon == y.epsilon && x.kind == y.kind && x.percent == y.percent && x.maskPixels == y.maskPixels
        && x.masks.map(\.rowKey) == y.masks.map(\.rowKey)
    }
  }
}
