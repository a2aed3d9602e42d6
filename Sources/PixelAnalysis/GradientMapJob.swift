import Foundation
import PixelData
import PixelNN
import PixelTensor

/// `pixelrobust gradient-map` as a library job: the map of one data set (or one shard of it)
/// written as a folder by ``GradientMapOutputs``, and the merge of shard folders into the map a
/// single run writes.
public struct GradientMapJob {
  /// The ``PartialResult`` kind of a shard's folder.
  public static let kind = "gradient-map"
  /// The file holding a part's image sums (for the mean image of the merged overlay).
  static let imageSumFile = "image_sum.safetensors"

  public var target: GradientTarget
  public var batchSize: Int
  /// Only this part of the data set (whole batches), or all of it.
  public var shard: Shard?
  /// Where and how the files are written.
  public var outputs: GradientMapOutputs

  /// A job writing `outputs` for `target` in batches of `batchSize`, optionally for one shard.
  public init(target: GradientTarget = .loss, batchSize: Int = 256, shard: Shard? = nil, outputs: GradientMapOutputs) {
    precondition(batchSize >= 1, "batch size must be positive")
    self.target = target
    self.batchSize = batchSize
    self.shard = shard
    self.outputs = outputs
  }

  /// Everything two parts of one map must share: the model's content digest, the data set, its
  /// size and class names, the target, the batch size and the rendering.
  func identity(model: Model, modelName: String, data: Dataset) -> [String: String] {
    ["model": modelName, "model_hash": Checkpoint.contentHash(of: model), "data": data.name,
     "examples": String(data.count), "class_names": data.classNames.joined(separator: "\n"),
     "target": target.rawValue, "batch_size": String(batchSize)].merging(outputs.renderingIdentity) { a, _ in a }
  }

  /// Accumulates the map of `data` (or the shard's part) through `model` and writes every file;
  /// a shard's folder also holds its image sums and a ``PartialResult`` identity.
  /// - Parameter progress: images done and the part's size, after every batch.
  /// - Returns: the summary and the names of the files written.
  public func run(model: Model, modelName: String, data: Dataset,
                  progress: (Int, Int) -> Void = { _, _ in }) throws -> (summary: MapSummary, files: [String]) {
    let (range, part) = data.part(shard, batchSize: batchSize)
    let acc = InputGradientMap.accumulate(model: model, data: part, target: target, batchSize: batchSize, progress: progress)
    let imageSum = Self.imageSum(part)
    let summary = MapSummary(acc, model: modelName, data: data.name, target: target, shard: shard?.description)
    let job = identity(model: model, modelName: modelName, data: data)
    var files = try outputs.write(acc, summary: summary, classNames: data.classNames,
                                  meanImage: Self.meanImage(imageSum, count: part.count, shape: data.imageShape), metadata: job)
    var manifest = job
    if let shard {
      try SafeTensors.writeFloat64(["image_sum": (data.imageShape, imageSum)], metadata: ["count": String(part.count)],
                                   to: outputs.folder.appendingPathComponent(Self.imageSumFile))
      files.append(Self.imageSumFile)
      manifest = PartialResult(kind: Self.kind, shard: shard, range: range, examples: data.count, job: job).manifestIdentity
    }
    try FolderManifest.write(folder: outputs.folder, files: files, identity: manifest)
    return (summary, files + [FolderManifest.fileName])
  }

  /// `Σ_n x_n` per pixel in `Double`: exact for 8-bit images of up to 2²¹ examples, so the
  /// shards' sums add up to the single run's.
  static func imageSum(_ data: Dataset) -> [Double] {
    let per = data.imageShape.reduce(1, *)
    var sum = [Double](repeating: 0, count: per)
    data.images.withUnsafeBufferPointer { b in
      for n in 0..<data.count { for i in 0..<per { sum[i] += Double(b[n * per + i]) } }
    }
    return sum
  }

  static func meanImage(_ sum: [Double], count: Int, shape: [Int]) -> Tensor? {
    count == 0 ? nil : Tensor(sum.map { Float($0 / Double(count)) }, shape: Shape(shape))
  }

  /// Merges shard folders into `folder`: the map one unsharded run writes, rendered as the
  /// shards were (partial sums add exactly in `Double` for the maps' Float outputs; shards cover
  /// whole batches).
  /// - Throws: ``PartialResultError`` for a foreign, repeated or missing shard,
  ///   ``FolderManifestError`` for an unfinished one, ``AnalysisError`` for damaged sums.
  public static func merge(_ folders: [URL], into folder: URL) throws
    -> (accumulator: GradientMapAccumulator, summary: MapSummary, files: [String]) {
    let parts = try PartialResult.collect(folders)
    guard parts[0].part.kind == kind else { throw PartialResultError.unsupportedKind(folder: parts[0].folder.path, kind: parts[0].part.kind) }
    let job = parts[0].part.job
    let outputs = try GradientMapOutputs(folder: folder, renderingIdentity: job, source: parts[0].folder.path)
    var merged: GradientMapAccumulator?
    var imageSum: [Double] = []
    for (shardFolder, _) in parts {
      let (acc, _) = try GradientMapAccumulator.read(from: shardFolder.appendingPathComponent("partial.safetensors"))
      let sumURL = shardFolder.appendingPathComponent(imageSumFile)
      guard let sum = try SafeTensors.readFloat64(from: sumURL).arrays["image_sum"]?.values,
            sum.count == acc.pixelCount else {
        throw AnalysisError.malformed(path: sumURL.path, detail: "no image_sum of \(acc.pixelCount) values")
      }
      if merged == nil {
        merged = acc
        imageSum = sum
      } else {
        try merged!.merge(acc)
        for i in imageSum.indices { imageSum[i] += sum[i] }
      }
    }
    let acc = merged!
    let target = GradientTarget(rawValue: job["target"] ?? "") ?? .loss
    let summary = MapSummary(acc, model: job["model"] ?? "?", data: job["data"] ?? "?", target: target)
    let text = job["class_names"] ?? ""
    let names = text.isEmpty ? [] : text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let files = try outputs.write(acc, summary: summary, classNames: names,
                                  meanImage: meanImage(imageSum, count: parts[0].part.examples, shape: acc.imageShape), metadata: job)
    try FolderManifest.write(folder: folder, files: files, identity: job)
    return (acc, summary, files + [FolderManifest.fileName])
  }
}
