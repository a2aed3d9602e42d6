import Foundation
import PixelData
import PixelNN
import PixelTensor

/// Accuracy, per-class accuracy, confusion matrix and mean loss of a classifier on a data set
/// (`evaluate --json`; JSON keys are the property names).
public struct EvaluationReport: Codable, Sendable {
  /// JSON `data`: the data set's name (source and split).
  public var data: String
  /// JSON `count`: examples evaluated.
  public var count: Int
  /// JSON `accuracy`: top-1 accuracy in [0, 1].
  public var accuracy: Double
  /// JSON `meanLoss`: mean cross-entropy.
  public var meanLoss: Double
  /// JSON `classNames`: one name per class.
  public var classNames: [String]
  /// Accuracy on each class's examples (`nil` for a class with none).
  public var perClassAccuracy: [Double?]
  /// `confusion[true][predicted]` counts.
  public var confusion: [[Int]]

  /// A readable summary with the confusion matrix.
  public var summary: String {
    var lines = ["\(data): \(count) images, accuracy " + String(format: "%.2f%%, mean loss %.4f", accuracy * 100, meanLoss)]
    for (k, name) in classNames.enumerated() {
      let acc = perClassAccuracy[k].map { String(format: "%6.2f%%", $0 * 100) } ?? "     –"
      lines.append("  \(acc)  \(k) \(name)")
    }
    lines.append("confusion (rows: true class, columns: predicted):")
    for row in confusion { lines.append("  " + row.map { String(format: "%5d", $0) }.joined(separator: " ")) }
    return lines.joined(separator: "\n")
  }
}

/// Evaluates `model` in inference mode without recording gradients.
/// - Parameter progress: after every batch, the images done and the total.
/// - Returns: the report and the logits `[N, classes]`.
public func evaluate(_ model: Model, on data: Dataset, batchSize: Int = 256,
                     progress: (Int, Int) -> Void = { _, _ in }) -> (report: EvaluationReport, logits: Tensor) {
  let k = model.spec.classes
  var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
  var lossSum = 0.0
  var parts: [Tensor] = []
  var done = 0
  model.withMode(.inference) {
    withoutGradients {
      for (x, y) in MiniBatches(data, batchSize: batchSize) {
        let logits = model(x)
        parts.append(logits)
        lossSum += Double(crossEntropy(logits: logits, labels: y, reduction: .sum).item)
        for (truth, predicted) in zip(y, logits.argmax(alongAxis: 1)) where truth < k { confusion[truth][predicted] += 1 }
        done += y.count
        progress(done, data.count)
      }
    }
  }
  let correct = (0..<k).reduce(0) { $0 + confusion[$1][$1] }
  let perClass: [Double?] = (0..<k).map { c in
    let total = confusion[c].reduce(0, +)
    return total == 0 ? nil : Double(confusion[c][c]) / Double(total)
  }
  let names = data.classNames.count == k ? data.classNames : (0..<k).map(String.init)
  let report = EvaluationReport(data: data.name, count: data.count, accuracy: Double(correct) / Double(Swift.max(data.count, 1)),
                                meanLoss: lossSum / Double(Swift.max(data.count, 1)), classNames: names,
                                perClassAccuracy: perClass, confusion: confusion)
  return (report, parts.isEmpty ? .zeros([0, k]) : Tensor.concatenate(parts, alongAxis: 0))
}
