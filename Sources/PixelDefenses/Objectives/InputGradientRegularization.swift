import PixelNN
import PixelTensor
import PixelTraining

/// Input-gradient regularization by double backpropagation (Ross & Doshi-Velez, AAAI 2018,
/// https://arxiv.org/abs/1711.09404; Drucker & LeCun 1992):
///
/// ```
/// L = mean_n CE_n + λ · mean_n ‖∇ₓ CE_n‖²₂            (.perExample, batch-size independent)
/// L = mean_n CE_n + λ_code · ½ ‖∇ₓ mean_n CE_n‖²₂     (.authors, the released code's form)
/// ```
///
/// so `λ = λ_code / (2N)` at batch size N (the authors' MNIST λ_code = 56,234 at N = 256 is
/// λ ≈ 110). The gradient is computed with `createGraph: true` and differentiated again with
/// respect to the weights. With `insensitive`, the penalised gradient is that of the
/// cross-entropy against uniform labels (the "certainty insensitivity" variant), which does not
/// depend on the true label. With batch norm in training mode examples interact, and the rows of
/// ∇ₓ of the summed loss are then not exactly per-example gradients.
public struct InputGradientRegularization: TrainingObjective {
  /// How λ scales the penalty.
  public enum Convention: String, Codable, Sendable, CaseIterable {
    /// `λ · mean_n ‖∇ₓ CE_n‖²`.
    case perExample = "per-example"
    /// `λ · ½ ‖∇ₓ mean CE‖²`, as in Ross & Doshi-Velez's code.
    case authors
  }

  /// The penalty weight, in `convention`'s units.
  public var lambda: Float
  public var convention: Convention
  /// Penalise ∇ₓ of the cross-entropy against uniform labels instead of the true ones.
  public var insensitive: Bool

  /// The objective with weight `lambda` (≥ 0, finite) in `convention`.
  public init(lambda: Float, convention: Convention = .perExample, insensitive: Bool = false) {
    precondition(lambda >= 0 && lambda.isFinite, "λ must be finite and non-negative")
    self.lambda = lambda
    self.convention = convention
    self.insensitive = insensitive
  }

  /// The penalty's factor on `Σ_n ‖g_n‖²` with `g = ∇ₓ Σ_n CE_n`, for a batch of `n`.
  func penaltyScale(batch n: Int) -> Float {
    switch convention {
    case .perExample: return lambda / Float(n)
    case .authors: return lambda / (2 * Float(n) * Float(n))
    }
  }

  public func loss(model: Model, inputs: Tensor, labels: [Int], using rng: inout SeededGenerator) -> ObjectiveValue {
    // NOTE: the penalty differentiates the forward pass itself, so it records even when the
    // caller has switched recording off.
    withGradients {
      let n = labels.count
      let x = inputs.detached().requiringGradient()
      let logits = model(x)
      let ceSum = crossEntropy(logits: logits, labels: labels, reduction: .sum)
      let target = insensitive ? crossEntropy(logits: logits, labels: labels, reduction: .sum, labelSmoothing: 1) : ceSum
      let g = gradients(of: target, wrt: [x], createGraph: true)[0]
      let penalty = (g * g).sum() * penaltyScale(batch: n)
      let ce = ceSum * (1 / Float(n))
      return ObjectiveValue(loss: ce + penalty, logits: logits, terms: ["ce": ce.item, "penalty": penalty.item])
    }
  }
}
