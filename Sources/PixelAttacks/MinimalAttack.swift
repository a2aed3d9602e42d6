import PixelNN
import PixelTensor

/// The distance a minimal attack minimises.
public enum PerturbationNorm: String, Sendable, Codable, CaseIterable {
  /// Changed pixel locations (any channel).
  case l0
  case l2
  case lInfinity = "linf"

  /// The size of each example's perturbation `delta` `[N, C, H, W]` in this norm.
  public func sizes(_ delta: Tensor) -> [Double] {
    let n = delta.shape[0], c = delta.shape[1], plane = delta.elementCount / Swift.max(n * c, 1)
    return delta.withUnsafeBufferPointer { b in
      (0..<n).map { i in
        let base = i * c * plane
        switch self {
        case .l0:
          return Double((0..<plane).filter { p in (0..<c).contains { b[base + $0 * plane + p] != 0 } }.count)
        case .l2:
          return (0..<(c * plane)).reduce(0.0) { $0 + Double(b[base + $1]) * Double(b[base + $1]) }.squareRoot()
        case .lInfinity:
          return (0..<(c * plane)).reduce(0.0) { Swift.max($0, Double(Swift.abs(b[base + $1]))) }
        }
      }
    }
  }
}

/// Where a minimal attack may move pixels: the value range and an optional mask
/// (`[1, C, H, W]`, 1 where pixels may change).
public struct PixelDomain: Sendable {
  /// The pixel range adversarial images stay in.
  public var bounds: ClosedRange<Float>
  /// 1 where pixels may change; `nil` lets every pixel change.
  public var mask: Tensor?

  /// The domain `bounds`, restricted to `mask`.
  /// - Throws: ``AttackError/emptyMask(_:)`` when the mask selects no pixel.
  public init(bounds: ClosedRange<Float> = 0...1, mask: Tensor? = nil) throws {
    if let mask, !(mask.max() > 0) { throw AttackError.emptyMask("given to the attack") }
    self.bounds = bounds
    self.mask = mask
  }

  /// `gradient` with entries off the mask set to zero.
  public func gate(_ gradient: Tensor) -> Tensor {
    guard let mask else { return gradient }
    return withoutGradients { gradient * mask }
  }

  /// `candidate` with pixels off the mask reset to `clean` bit for bit and every pixel clipped to `bounds`.
  public func confine(_ candidate: Tensor, around clean: Tensor) -> Tensor {
    withoutGradients {
      let inBounds = candidate.detached().clamped(to: bounds)
      guard let mask else { return inBounds }
      return Tensor.select(mask.broadcast(to: clean.shape) .> 0, inBounds, clean)
    }
  }
}

/// An attack that looks for the smallest perturbation (in ``norm``) that fools the model, with no
/// budget: C&W L2, DeepFool L2/L∞ and JSMA L0 (Foolbox's minimisation family). The model must
/// already be in inference mode; ``MinimalAttackRunner`` takes care of that.
public protocol MinimalAttack: Sendable {
  /// A short name for reports, e.g. `"deepfool-l2"`.
  var name: String { get }
  /// The norm the attack minimises and reports.
  var norm: PerturbationNorm { get }
  /// Adversarial candidates for `x` inside `domain`: an example the attack could not fool may
  /// come back changed (its last iterate) or unchanged; the runner decides success by classifying.
  func perturb(_ x: Tensor, criterion: Criterion, within domain: PixelDomain, model: any Classifier,
               using rng: inout SeededGenerator) -> Tensor
}
