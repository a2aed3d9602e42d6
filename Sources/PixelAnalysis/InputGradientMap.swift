import PixelData
import PixelNN
import PixelTensor

/// The dataset-mean absolute input gradient of Hwang et al. (2019):
/// `G[c,i,j] = (1/N) Σ_n |∂ CE(f(x_n), y_n) / ∂ x_n[c,i,j]|`, with the model in inference mode.
public enum InputGradientMap {
  /// Per-example input gradients of a batch: of each example's cross-entropy, or of its
  /// predicted-class logit. Only `∂/∂x` is computed (the backward pass skips weight gradients),
  /// through ``Classifier/inputGradient(_:loss:)`` (blocks of examples on the cores for a ``Model``).
  public static func gradients(model: any Classifier, images: Tensor, labels: [Int], target: GradientTarget) -> Tensor {
    model.inputGradient(images) { logits, rows in
      switch target {
      case .loss:
        return crossEntropy(logits: logits, labels: Array(labels[rows]), reduction: .sum)
      case .logit:
        let predicted = logits.detached().argmax(alongAxis: 1)
        let k = logits.shape[1]
        return logits.gathering(IndexBuffer(predicted.enumerated().map { $0.offset * k + $0.element }),
                                shape: [predicted.count]).sum()
      }
    }
  }

  /// Streams `data` through the model in batches and accumulates the sums.
  /// `progress` receives the images done and the total after every batch.
  public static func accumulate(model: Model, data: Dataset, target: GradientTarget = .loss, batchSize: Int = 256,
                                progress: (Int, Int) -> Void = { _, _ in }) -> GradientMapAccumulator {
    var acc = GradientMapAccumulator(imageShape: data.imageShape, classes: model.spec.classes)
    model.withMode(.inference) {
      var done = 0
      for (x, y) in MiniBatches(data, batchSize: batchSize) {
        acc.add(gradients(model: model, images: x, labels: y, target: target), labels: y)
        done += y.count
        progress(done, data.count)
      }
    }
    return acc
  }
}
