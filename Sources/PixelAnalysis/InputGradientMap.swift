import PixelData
import PixelNN
import PixelTensor

/// The dataset-mean absolute input gradient of Hwang et al. (2019):
/// `G[c,i,j] = (1/N) Σ_n |∂ CE(f(x_n), y_n) / ∂ x_n[c,i,j]|`, with the model in inference mode.
public enum InputGradientMap {
  /// Which contiguous part of a data set one job handles: shard `index` of `count`.
  public struct Shard: Sendable, Equatable {
    /// Shard `index` (0-based) of `count`.
    public var index: Int, count: Int
    /// - Throws: ``AnalysisError/invalidShard(_:)`` unless `0 ≤ index < count`.
    public init(index: Int, count: Int) throws {
      guard count >= 1, index >= 0, index < count else { throw AnalysisError.invalidShard("\(index)/\(count)") }
      self.index = index
      self.count = count
    }
    /// Parses `i/n`.
    public init(parsing text: String) throws {
      let parts = text.split(separator: "/").map { Int($0) }
      guard parts.count == 2, let i = parts[0], let n = parts[1] else { throw AnalysisError.invalidShard(text) }
      try self.init(index: i, count: n)
    }
    /// The examples of `total` this shard covers: whole batches of `batchSize`, so that every
    /// example is processed in the same batch as in an unsharded run and merged shards
    /// reproduce the unsharded map.
    public func range(of total: Int, batchSize: Int) -> Range<Int> {
      let batches = (total + batchSize - 1) / batchSize
      let first = batches * index / count, last = batches * (index + 1) / count
      return Swift.min(total, first * batchSize)..<Swift.min(total, last * batchSize)
    }
  }

  /// Per-example input gradients of a batch: of each example's cross-entropy, or of its
  /// predicted-class logit. Only `∂/∂x` is computed (the backward pass skips weight gradients).
  public static func gradients(model: any Classifier, images: Tensor, labels: [Int], target: GradientTarget) -> Tensor {
    let x = images.detached().requiringGradient()
    let objective: Tensor = withGradients {
      let logits = model.logits(x)
      switch target {
      case .loss:
        return crossEntropy(logits: logits, labels: labels, reduction: .sum)
      case .logit:
        let predicted = logits.detached().argmax(alongAxis: 1)
        let k = logits.shape[1]
        return logits.gathering(IndexBuffer(predicted.enumerated().map { $0.offset * k + $0.element }),
                                shape: [predicted.count]).sum()
      }
    }
    return PixelTensor.gradients(of: objective, wrt: [x])[0]
  }

  /// Streams `data` (or one shard of it) through the model in batches and accumulates the sums.
  /// `progress` receives the images done and the total after every batch.
  public static func accumulate(model: Model, data: Dataset, target: GradientTarget = .loss, batchSize: Int = 256,
                                shard: Shard? = nil, progress: (Int, Int) -> Void = { _, _ in }) -> GradientMapAccumulator {
    let part = shard.map { data.subset(Array($0.range(of: data.count, batchSize: batchSize))) } ?? data
    var acc = GradientMapAccumulator(imageShape: data.imageShape, classes: model.spec.classes)
    model.withMode(.inference) {
      var done = 0
      for (x, y) in MiniBatches(part, batchSize: batchSize) {
        acc.add(gradients(model: model, images: x, labels: y, target: target), labels: y)
        done += y.count
        progress(done, part.count)
      }
    }
    return acc
  }
}
