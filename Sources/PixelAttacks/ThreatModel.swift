import Foundation
import PixelTensor

/// The distance an adversary's perturbation is measured in.
public enum Norm: String, Sendable, CaseIterable {
  case lInfinity = "linf"
  case l2
}

/// The set of inputs an adversary may produce around a clean batch: an ε-ball in `norm`
/// (pixel units), intersected with `bounds` and restricted to `mask`.
///
/// Masked attacks are this type with a mask, not a separate algorithm (ART's `mask`,
/// Foolbox's `clip_perturbation`). Off the mask the perturbation is exactly zero: attacks
/// gate the gradient and ``project(_:around:)`` multiplies the perturbation by the mask, so
/// `(1 − M) ⊙ (x_adv − x) == 0` bit for bit.
public struct ThreatModel: Sendable {
  /// The norm ε is measured in.
  public var norm: Norm
  /// The budget in `[0, 1]` pixel units.
  public var epsilon: Float
  /// The pixel range adversarial images stay in.
  public var bounds: ClosedRange<Float>
  /// 1 where pixels may change, 0 where they must stay clean; `[1, C, H, W]`, broadcast over the batch.
  public var mask: Tensor?

  /// The ε-ball in `norm` around a batch, within `bounds`, restricted to `mask`.
  /// - Throws: ``AttackError`` for a negative or non-finite ε or an empty mask.
  public init(norm: Norm, epsilon: Float, bounds: ClosedRange<Float> = 0...1, mask: Tensor? = nil) throws {
    guard epsilon.isFinite, epsilon >= 0 else { throw AttackError.invalidEpsilon(epsilon) }
    if let mask, !(mask.max() > 0) { throw AttackError.emptyMask("given to the threat model") }
    self.norm = norm
    self.epsilon = epsilon
    self.bounds = bounds
    self.mask = mask
  }

  /// `gradient` with entries off the mask set to zero.
  public func gate(_ gradient: Tensor) -> Tensor {
    guard let mask else { return gradient }
    return gradient * mask
  }

  /// Projects `candidate` onto the threat set around `clean`: mask the perturbation, clip it to
  /// the ε-ball (per example for L2), then clip the image to `bounds`.
  public func project(_ candidate: Tensor, around clean: Tensor) -> Tensor {
    withoutGradients {
      var delta = candidate.detached() - clean
      if let mask { delta = delta * mask }
      switch norm {
      case .lInfinity:
        delta = delta.clamped(to: -epsilon...epsilon)
      case .l2:
        delta = delta.scaledPerExample(delta.l2NormPerSample().scalars.map { $0 > epsilon ? epsilon / $0 : 1 })
      }
      return (clean + delta).clamped(to: bounds)
    }
  }

  /// A uniformly random start inside the threat set (L∞: uniform in the box; L2: uniform in the
  /// ball), masked and projected.
  public func randomStart(around clean: Tensor, using rng: inout some RandomNumberGenerator) -> Tensor {
    switch norm {
    case .lInfinity:
      return project(clean + Tensor.uniform(clean.shape, in: -epsilon...epsilon, using: &rng), around: clean)
    case .l2:
      let n = clean.shape[0], d = clean.elementCount / Swift.max(n, 1)
      let direction = gate(Tensor.normal(clean.shape, using: &rng))
      let norms = withoutGradients { direction.l2NormPerSample() }.scalars
      // Radius ε·u^(1/d) makes the point uniform in the ball.
      let radii = (0..<n).map { i in epsilon * Float(pow(Double(rng.nextUnitFloat()), 1 / Double(d))) / Swift.max(norms[i], 1e-12) }
      return project(clean + direction.scaledPerExample(radii), around: clean)
    }
  }
}

