import PixelNN
import PixelTensor

/// A weighted sum of objectives, `L = Σ_i w_i · L_i` (e.g. input-gradient regularization plus
/// adversarial training). Each part runs its own forward pass; the logits reported are the
/// first part's, and each part's terms are logged under its index (`0.ce`, `1.adversarial_ce`).
public struct WeightedObjectives: TrainingObjective {
  /// The parts and their weights.
  public var parts: [(weight: Float, objective: any TrainingObjective)]

  /// The sum of `parts`.
  /// - Precondition: at least one part, every weight finite and non-negative.
  public init(_ parts: [(weight: Float, objective: any TrainingObjective)]) {
    precondition(!parts.isEmpty && parts.allSatisfy { $0.weight >= 0 && $0.weight.isFinite },
                 "a weighted sum needs parts with finite, non-negative weights")
    self.parts = parts
  }

  public func loss(model: Model, inputs: Tensor, labels: [Int], using rng: inout SeededGenerator) -> ObjectiveValue {
    var total: Tensor?
    var logits: Tensor?
    var terms: [String: Float] = [:]
    for (i, part) in parts.enumerated() {
      let value = part.objective.loss(model: model, inputs: inputs, labels: labels, using: &rng)
      total = total.map { $0 + value.loss * part.weight } ?? value.loss * part.weight
      logits = logits ?? value.logits
      for (name, v) in value.terms { terms["\(i).\(name)"] = v }
    }
    return ObjectiveValue(loss: total!, logits: logits!, terms: terms)
  }
}
