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
  let outcomes = EvaluationOutcomes.compute(model, on: data, batchSize: batchSize, progress: progress)
  return (outcomes.report(data: data.name, classNames: data.classNames), outcomes.logits)
}

/// What evaluation records per example: label, prediction, cross-entropy and logits, in data
/// order. The report is a function of these alone, summed in example order, so a data set
/// evaluated in shards and concatenated gives the single run's report bit for bit.
public struct EvaluationOutcomes: Sendable {
  public var labels: [Int]
  public var predictions: [Int]
  /// `CE_n = log Σ_k exp z_nk − z_ny`, in `Double` from the Float logits.
  public var losses: [Double]
  /// `[N, classes]`.
  public var logits: Tensor

  /// Outcomes as given.
  public init(labels: [Int], predictions: [Int], losses: [Double], logits: Tensor) {
    precondition(labels.count == predictions.count && labels.count == losses.count && logits.rank == 2
                 && logits.shape[0] == labels.count, "one outcome per example")
    self.labels = labels; self.predictions = predictions; self.losses = losses; self.logits = logits
  }

  /// Runs `model` in inference mode over `data`.
  public static func compute(_ model: Model, on data: Dataset, batchSize: Int = 256,
                             progress: (Int, Int) -> Void = { _, _ in }) -> EvaluationOutcomes {
    let k = model.spec.classes
    var parts: [Tensor] = []
    var predictions: [Int] = [], losses: [Double] = []
    var done = 0
    model.withMode(.inference) {
      withoutGradients {
        for (x, y) in MiniBatches(data, batchSize: batchSize) {
          let logits = model(x)
          parts.append(logits)
          predictions += logits.argmax(alongAxis: 1)
          logits.withUnsafeBufferPointer { z in
            for (n, label) in y.enumerated() { losses.append(crossEntropy(z[(n * k)..<((n + 1) * k)], label: label)) }
          }
          done += y.count
          progress(done, data.count)
        }
      }
    }
    return EvaluationOutcomes(labels: data.labels, predictions: predictions, losses: losses,
                              logits: parts.isEmpty ? .zeros([0, k]) : Tensor.concatenate(parts, alongAxis: 0))
  }

  /// `log Σ exp z − z_label` with the maximum subtracted first; NaN for a label outside the row.
  static func crossEntropy(_ z: Slice<UnsafeBufferPointer<Float>>, label: Int) -> Double {
    guard label >= 0 && label < z.count else { return .nan }
    let top = Double(z.max() ?? 0)
    let sum = z.reduce(0.0) { $0 + Foundation.exp(Double($1) - top) }
    return Foundation.log(sum) + top - Double(z[z.startIndex + label])
  }

  /// The outcomes of several consecutive parts, in order.
  public static func concatenating(_ parts: [EvaluationOutcomes]) -> EvaluationOutcomes {
    EvaluationOutcomes(labels: parts.flatMap(\.labels), predictions: parts.flatMap(\.predictions),
                       losses: parts.flatMap(\.losses), logits: Tensor.concatenate(parts.map(\.logits), alongAxis: 0))
  }

  /// The report: accuracy, per-class accuracy, confusion matrix and mean loss.
  public func report(data: String, classNames: [String]) -> EvaluationReport {
    let k = logits.shape[1], count = labels.count
    var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
    for (truth, predicted) in zip(labels, predictions) where truth >= 0 && truth < k { confusion[truth][predicted] += 1 }
    let correct = (0..<k).reduce(0) { $0 + confusion[$1][$1] }
    let perClass: [Double?] = (0..<k).map { c in
      let total = confusion[c].reduce(0, +)
      return total == 0 ? nil : Double(confusion[c][c]) / Double(total)
    }
    let names = classNames.count == k ? classNames : (0..<k).map(String.init)
    return EvaluationReport(data: data, count: count, accuracy: Double(correct) / Double(Swift.max(count, 1)),
                            meanLoss: losses.reduce(0, +) / Double(Swift.max(count, 1)), classNames: names,
                            perClassAccuracy: perClass, confusion: confusion)
  }
}
