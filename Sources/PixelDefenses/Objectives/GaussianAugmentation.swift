import PixelNN
import PixelTensor
import PixelTraining

/// Training on Gaussian-noised inputs, `L = CE(f(x + σ·ε), y)` with `ε ~ N(0, I)` and no
/// clipping (the base classifiers of randomized smoothing, Cohen et al. 2019, and of Nemcovsky
/// et al.'s smoothed inference are trained this way), optionally mixed with adversarial
/// examples made against the noisy classifier:
/// `L = (1 − w)·CE(f(x + σε), y) + w·CE(f(x_adv + σε′), y)`, where PGD finds `x_adv` on
/// `x ↦ f(x + σε)` with fresh noise at every step (Nemcovsky et al. use `w = ½`).
///
/// At σ = 0 on a model with parametric noise inside (``ParametricNoise``) this is PNI's
/// objective (He et al. 2019): the model's own noise is drawn in every forward pass, the
/// attack's included.
public struct GaussianAugmentation: TrainingObjective {
  /// σ in pixel units.
  public var sigma: Float
  /// The adversarial mix: its attack, budget and weight `w`; `nil` for noise alone.
  public var adversary: AdversarialTraining?

  /// Noise of standard deviation `sigma` (≥ 0, finite), mixed with `adversary`'s examples if given.
  public init(sigma: Float, adversary: AdversarialTraining? = nil) {
    precondition(sigma >= 0 && sigma.isFinite, "σ must be finite and non-negative")
    self.sigma = sigma
    self.adversary = adversary
  }

  func noisy(_ x: Tensor, using rng: inout SeededGenerator) -> Tensor {
    sigma == 0 ? x.detached() : x.detached() + Tensor.normal(x.shape, standardDeviation: sigma, using: &rng)
  }

  public func loss(model: Model, inputs: Tensor, labels: [Int], using rng: inout SeededGenerator) -> ObjectiveValue {
    let logits = model(noisy(inputs, using: &rng))
    let clean = crossEntropy(logits: logits, labels: labels)
    guard let adversary else { return ObjectiveValue(loss: clean, logits: logits) }
    // What the adversary attacks: x ↦ f(x + σε), fresh noise per pass.
    let view = SmoothingLayer(base: model.network, sigma: sigma, samples: 1, aggregation: .soft, seed: rng.next())
    let xAdv = adversary.adversarialExamples(model: model, attacking: view, inputs: inputs, labels: labels, using: &rng)
    let attacked = crossEntropy(logits: model(noisy(xAdv, using: &rng)), labels: labels)
    let w = adversary.adversarialWeight
    return ObjectiveValue(loss: clean * (1 - w) + attacked * w, logits: logits,
                          terms: ["ce": clean.item, "adversarial_ce": attacked.item])
  }
}

