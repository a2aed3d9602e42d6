import PixelTensor

/// What counts as a successful attack, and the loss an attack ascends to get there.
public enum Criterion: Sendable {
  /// Any label but the true one.
  case misclassification(labels: [Int])
  /// The given class for each example (TGSM and targeted PGD); `labels` are the true classes,
  /// which margin losses (targeted DLR, C&W) and reports need besides the targets.
  case targeted(classes: [Int], labels: [Int])

  /// The attacked labels of a batch: the true labels, or the targets.
  public var labels: [Int] {
    switch self {
    case .misclassification(let y): return y
    case .targeted(let t, _): return t
    }
  }

  /// The true labels of a batch.
  public var trueLabels: [Int] {
    switch self {
    case .misclassification(let y), .targeted(_, let y): return y
    }
  }

  /// Whether success means reaching a given class.
  public var isTargeted: Bool {
    if case .targeted = self { return true }
    return false
  }

  /// The loss attacks *ascend*: `Σ CE(logits, y)` away from the true label, or
  /// `−Σ CE(logits, target)` towards the target. Summed, so that each example's gradient
  /// does not depend on the batch size.
  public func attackLoss(logits: Tensor) -> Tensor {
    switch self {
    case .misclassification(let y): return crossEntropy(logits: logits, labels: y, reduction: .sum)
    case .targeted(let t, _): return -crossEntropy(logits: logits, labels: t, reduction: .sum)
    }
  }

  /// Per example: has the attack succeeded on these logits?
  public func isAdversarial(logits: Tensor) -> [Bool] {
    let predicted = logits.argmax(alongAxis: 1)
    switch self {
    case .misclassification(let y): return zip(predicted, y).map { $0 != $1 }
    case .targeted(let t, _): return zip(predicted, t).map { $0 == $1 }
    }
  }

  /// The targets `(y + 1) mod K` (TGSM's choice in Kurakin et al. style evaluations).
  public static func nextClassTargets(_ labels: [Int], classes: Int) -> Criterion {
    .targeted(classes: labels.map { ($0 + 1) % classes }, labels: labels)
  }

  /// The criterion restricted to the examples at `indices`.
  public func subset(_ indices: [Int]) -> Criterion {
    switch self {
    case .misclassification(let y): return .misclassification(labels: indices.map { y[$0] })
    case let .targeted(t, y): return .targeted(classes: indices.map { t[$0] }, labels: indices.map { y[$0] })
    }
  }
}
