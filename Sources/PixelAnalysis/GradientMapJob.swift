import Foundation
import PixelData
import PixelNN
import PixelTensor

/// `pixelrobust gradient-map` as a library job: the map of one data set (or one shard of it)
/// written as a folder by ``GradientMapOutputs``, and the merge of shard folders into the map a
/// single run writes.
public struct GradientMapJob {
  /// Metadata keys of `partial.safetensors` that identify what a partial map is of.
  public enum MetadataKey {
    /// The model's name as given (a path).
    public static let model = "pixelrobust.map.model"
    /// ``Checkpoint/contentHash(of:)`` of the model.
    public static let modelHash = "pixelrobust.map.model_hash"
    /// The data set's name (source and split).
    public static let data = "pixelrobust.map.data"
    /// The number of examples of the whole (unsharded) data set.
    public static let examples = "pixelrobust.map.examples"
    public static let target = "pixelrobust.map.target"
    public static let batchSize = "pixelrobust.map.batch_size"
    /// `i/n`, absent for an unsharded run.
    public static let shard = "pixelrobust.map.shard"
  }

  public var target: GradientTarget
  public var batchSize: Int
  /// Only this part of the data set (whole batches), or all of it.
  public var shard: InputGradientMap.Shard?
  /// Where and how the files are written.
  public var outputs: GradientMapOutputs

  /// A job writing `outputs` for `target` in batches of `batchSize`, optionally for one shard.
  public init(target: GradientTarget = .loss, batchSize: Int = 256, shard: InputGradientMap.Shard? = nil,
              outputs: GradientMapOutputs) {
    precondition(batchSize >= 1, "batch size must be positive")
    self.target = target
    self.batchSize = batchSize
    self.shard = shard
    self.outputs = outputs
  }

  /// Accumulates the map of `data` (or the shard's part) through `model` and writes every file.
  /// - Parameter progress: images done and the part's size, after every batch.
  /// - Returns: the summary and the names of the files written.
  public func run(model: Model, modelName: String, data: Dataset,
                  progress: (Int, Int) -> Void = { _, _ in }) throws -> (summary: MapSummary, files: [String]) {
    let part = shard.map { data.subset(Array($0.range(of: data.count, batchSize: batchSize))) } ?? data
    let acc = InputGradientMap.accumulate(model: model, data: part, target: target, batchSize: batchSize, progress: progress)
    let meanImage = withoutGradients { part.images.mean(alongAxes: [0]) }
    let summary = MapSummary(acc, model: modelName, data: data.name, target: target,
                             shard: shard.map { "\($0.index)/\($0.count)" })
    var metadata = [MetadataKey.model: modelName, MetadataKey.modelHash: Checkpoint.contentHash(of: model),
                    MetadataKey.data: data.name, MetadataKey.examples: String(data.count),
                    MetadataKey.target: target.rawValue, MetadataKey.batchSize: String(batchSize)]
    if let shard { metadata[MetadataKey.shard] = "\(shard.index)/\(shard.count)" }
    let files = try outputs.write(acc, summary: summary, classNames: data.classNames, meanImage: meanImage, metadata: metadata)
    try FolderManifest.write(folder: outputs.folder, files: files, identity: metadata)
    return (summary, files + [FolderManifest.fileName])
  }

  /// Merges the `partial.safetensors` of shard folders into `outputs`: the same map as one
  /// unsharded run (sums are exact in `Double` and shards cover whole batches).
  /// - Throws: ``AnalysisError`` for a partial of another model, data set, target or batch size
  ///   than the first, a repeated shard, a missing shard, or an unsharded map among shards;
  ///   ``FolderManifestError`` for a shard folder without a complete manifest (unfinished).
  ///   Partials written before shard identities were recorded merge as they are.
  public static func merge(_ folders: [URL], into outputs: GradientMapOutputs) throws
    -> (accumulator: GradientMapAccumulator, summary: MapSummary, files: [String]) {
    guard let firstFolder = folders.first else { throw AnalysisError.incompatible("no shard folders given") }
    var merged: GradientMapAccumulator?
    var first: [String: String] = [:]
    var seen: [String: URL] = [:]
    var count: Int?
    for folder in folders {
      let url = folder.appendingPathComponent("partial.safetensors")
      let (acc, meta) = try GradientMapAccumulator.read(from: url)
      // A shard written with identities has a manifest, written last: without it (or with a
      // file changed since) the shard is unfinished or was tampered with.
      if meta[MetadataKey.modelHash] != nil { _ = try FolderManifest.verify(folder: folder) }
      if merged == nil {
        merged = acc
        first = meta
      } else {
        for key in [MetadataKey.modelHash, MetadataKey.data, MetadataKey.examples, MetadataKey.target, MetadataKey.batchSize]
        where meta[key] != first[key] {
          throw AnalysisError.incompatible("\(url.path) has \(key) = \(meta[key] ?? "none") but "
                                           + "\(firstFolder.path) has \(first[key] ?? "none")")
        }
        try merged!.merge(acc)
      }
      guard meta[MetadataKey.modelHash] != nil else { continue }
      let shard = meta[MetadataKey.shard] ?? "whole"
      if let previous = seen[shard] {
        throw AnalysisError.incompatible("\(folder.path) repeats shard \(shard) of \(previous.path)")
      }
      seen[shard] = folder
      let n = try shard == "whole" ? 1 : InputGradientMap.Shard(parsing: shard).count
      if let count, count != n { throw AnalysisError.incompatible("\(folder.path) is shard \(shard), the others are of \(count)") }
      count = n
    }
    if let count, !seen.isEmpty {
      let missing = (0..<count).filter { count > 1 && seen["\($0)/\(count)"] == nil }
      if !missing.isEmpty {
        throw AnalysisError.incompatible("shards \(missing.map { "\($0)/\(count)" }.joined(separator: ", ")) are missing")
      }
    }
    let acc = merged!
    var metadata = first
    metadata[MetadataKey.shard] = nil
    let target = GradientTarget(rawValue: first[MetadataKey.target] ?? "loss") ?? .loss
    let summary = MapSummary(acc, model: first[MetadataKey.model] ?? "?", data: first[MetadataKey.data] ?? "?", target: target)
    let files = try outputs.write(acc, summary: summary, classNames: [], meanImage: nil, metadata: metadata)
    try FolderManifest.write(folder: outputs.folder, files: files, identity: metadata)
    return (acc, summary, files + [FolderManifest.fileName])
  }
}
