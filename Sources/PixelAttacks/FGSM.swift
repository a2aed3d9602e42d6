import PixelNN
import PixelTensor

/// The fast gradient sign method (Goodfellow et al., 2015, https://arxiv.org/abs/1412.6572):
/// one step of size ε in the steepest-ascent direction of the attack loss, then projection.
/// With a targeted criterion it is TGSM (the loss descends towards the target).
public struct FGSM: BoundedAttack {
  public init() {}
  public var name: String { "fgsm" }

  public func perturb(_ x: Tensor, criterion: Criterion, within threat: ThreatModel, model: any Classifier,
                      using rng: inout SeededGenerator) -> Tensor {
    let g = attackGradient(x, criterion: criterion, threat: threat, model: model)
    return threat.project(x + steepestDirection(g, norm: threat.norm) * threat.epsilon, around: x)
  }
}
