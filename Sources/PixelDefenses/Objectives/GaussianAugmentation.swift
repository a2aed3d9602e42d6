import PixelNN
import PixelTensor
import PixelTraining

/// Training on Gaussian-noised inputs, `L = CE(f(x + σ·ε), y)` with `ε ~ N(0, I)` and no
/// clipping (the base classifiers of randomized smoothing, Cohen et al. 2019, and of Nemcovsky
/// et al.'s smoothed inference are trained this way).
public struct GaussianAugmentation: TrainingObjective {
  /// σ in pixel units.
  public var sigma: Float

  /// Noise of standard deviation `sigma` (≥ 0, finite).
  public init(sigma: Float) {
    precondition(sigma >= 0 && sigma.isFinite, "σ must be finite and non-negative")
    self.sigma = sigma
  }

  public func loss(model: Model, inputs: Tensor, labels: [Int], using rng: inout SeededGenerator) -> ObjectiveValue {
    let noisy = sigma == 0 ? inputs : inputs.detached() + Tensor.normal(inputs.shape, standardDeviation: sigma, using: &rng)
    let logits = model(noisy)
    return ObjectiveValue(loss: crossEntropy(logits: logits, labels: labels), logits: logits)
  }
}
