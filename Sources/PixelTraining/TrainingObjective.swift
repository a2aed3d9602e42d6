import PixelNN
import PixelTensor

/// What a training step minimises for one batch. The model is in training mode; the returned
/// scalar must be differentiable with respect to the model's parameters.
///
/// Defenses are objectives: input-gradient regularisation, adversarial training and the PRM's
/// gradient-steering loss plug in here.
public protocol TrainingObjective {
  /// The loss of `inputs` (`[N, C, H, W]` in `[0, 1]`) against `labels`.
  func loss(model: Model, inputs: Tensor, labels: [Int]) -> (loss: Tensor, logits: Tensor)
}

/// Plain cross-entropy, optionally with label smoothing.
public struct StandardTraining: TrainingObjective {
  /// ε of label smoothing in `[0, 1)`: the target puts `1 − ε` on the label and `ε/K` on every class.
  public var labelSmoothing: Float

  /// Cross-entropy with `labelSmoothing`.
  public init(labelSmoothing: Float = 0) { self.labelSmoothing = labelSmoothing }

  public func loss(model: Model, inputs: Tensor, labels: [Int]) -> (loss: Tensor, logits: Tensor) {
    let logits = model(inputs)
    return (crossEntropy(logits: logits, labels: labels, labelSmoothing: labelSmoothing), logits)
  }
}
