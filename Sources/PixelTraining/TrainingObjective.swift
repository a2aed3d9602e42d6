import PixelNN
import PixelTensor

/// What one training step's objective computed: the scalar to minimise, the logits of the clean
/// batch (for the running accuracy) and the named terms it is made of (logged per epoch).
public struct ObjectiveValue {
  /// The scalar loss, differentiable with respect to the model's parameters.
  public var loss: Tensor
  /// Logits `[N, K]` of the batch (clean inputs, or the noised ones of noise training), for the running accuracy.
  public var logits: Tensor
  /// The loss's parts by name (`ce`, `penalty`, `adversarial_ce`, …), as plain numbers.
  public var terms: [String: Float]

  /// A value with `terms`; without any, the loss alone is the `ce` term.
  public init(loss: Tensor, logits: Tensor, terms: [String: Float]? = nil) {
    self.loss = loss
    self.logits = logits
    self.terms = terms ?? ["ce": loss.item]
  }
}

/// What a training step minimises for one batch. The model is in training mode; the returned
/// loss must be differentiable with respect to the model's parameters.
///
/// Defenses are objectives: input-gradient regularisation, adversarial training, distillation
/// and the PRM's gradient-steering loss plug in here. Every random choice takes `rng`, which
/// the trainer seeds per epoch, so runs and resumed runs draw the same.
public protocol TrainingObjective {
  /// The loss of `inputs` (`[N, C, H, W]` in `[0, 1]`) against `labels`.
  func loss(model: Model, inputs: Tensor, labels: [Int], using rng: inout SeededGenerator) -> ObjectiveValue
}

/// Plain cross-entropy, optionally with label smoothing and a temperature (logits divided by
/// `T` in training only, as the teacher of defensive distillation is trained).
public struct StandardTraining: TrainingObjective {
  /// ε of label smoothing in `[0, 1)`: the target puts `1 − ε` on the label and `ε/K` on every class.
  public var labelSmoothing: Float
  /// `T ≥ 1`; 1 is plain training.
  public var temperature: Float

  /// Cross-entropy with `labelSmoothing` at `temperature`.
  public init(labelSmoothing: Float = 0, temperature: Float = 1) {
    precondition(temperature > 0 && temperature.isFinite, "temperature must be positive")
    self.labelSmoothing = labelSmoothing
    self.temperature = temperature
  }

  public func loss(model: Model, inputs: Tensor, labels: [Int], using rng: inout SeededGenerator) -> ObjectiveValue {
    let logits = model(inputs)
    let scaled = temperature == 1 ? logits : logits * (1 / temperature)
    return ObjectiveValue(loss: crossEntropy(logits: scaled, labels: labels, labelSmoothing: labelSmoothing), logits: logits)
  }
}
