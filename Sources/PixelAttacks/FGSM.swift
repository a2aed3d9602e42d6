import PixelNN
import PixelTensor

/// The fast gradient sign method (Goodfellow et al., 2015, https://arxiv.org/abs/1412.6572):
/// one step of size ε in the steepest-ascent direction of the attack loss, then projection.
/// With a targeted criterion it is TGSM (the loss descends towards the target).
public struct FGSM: BoundedAttack {
  /// Forward/backward passes averaged per gradient (EOT) for randomized models.
  public var eotSamples: Int

  /// FGSM with `eotSamples` passes per gradient.
  public init(eotSamples: Int = 1) {
    precondition(eotSamples >= 1, "EOT needs at least one sample")
    self.eotSamples = eotSamples
  }

  public var name: String { eotSamples > 1 ? "eot\(eotSamples)-fgsm" : "fgsm" }

  public func perturb(_ x: Tensor, criterion: Criterion, within threat: ThreatModel, model: any Classifier,
                      using rng: inout SeededGenerator) -> Tensor {
    let g = attackGradient(x, criterion: criterion, threat: threat, model: model, samples: eotSamples)
    return threat.project(x + steepestDirection(g, norm: threat.norm) * threat.epsilon, around: x)
  }
}
