import PixelNN
import PixelTensor

/// An attack that searches inside a ``ThreatModel`` (FGSM, PGD and their masked and targeted
/// variants). The model must already be in inference mode; ``AttackRunner`` takes care of that.
public protocol BoundedAttack: Sendable {
  /// A short name for reports, e.g. `"pgd-20"`.
  var name: String { get }
  /// Adversarial examples for `x` inside `threat`, judged by `criterion`.
  func perturb(_ x: Tensor, criterion: Criterion, within threat: ThreatModel, model: any Classifier,
               using rng: inout SeededGenerator) -> Tensor
}

/// Gradient statistics seen by an attack: how many inputs had a useless gradient.
public struct GradientHealth: Sendable, Codable, Equatable {
  /// Examples seen.
  public var examples = 0
  /// Examples whose input gradient is exactly zero everywhere (on the mask).
  public var zero = 0
  /// Examples whose input gradient holds NaN or ±∞.
  public var nonFinite = 0

  /// No example seen yet.
  public init() {}

  mutating func record(_ g: Tensor) {
    let n = g.shape[0], per = g.elementCount / Swift.max(n, 1)
    g.withUnsafeBufferPointer { b in
      for i in 0..<n {
        var allZero = true, finite = true
        for j in (i * per)..<((i + 1) * per) {
          let v = b[j]
          if v != 0 { allZero = false }
          if !v.isFinite { finite = false }
        }
        examples += 1
        if !finite { nonFinite += 1 } else if allZero { zero += 1 }
      }
    }
  }
}

/// The input gradient of the attack loss, gated by the threat model's mask. With
/// `samples > 1` it is the mean over that many forward/backward passes: the expectation over
/// transformation (EOT, Athalye et al., 2018) that a randomized model requires.
func attackGradient(_ x: Tensor, criterion: Criterion, threat: ThreatModel, model: any Classifier,
                    samples: Int = 1) -> Tensor {
  threat.gate(attackGradient(x, criterion: criterion, model: model, samples: samples))
}

/// The input gradient of the attack loss, ungated, averaged over `samples` passes.
func attackGradient(_ x: Tensor, criterion: Criterion, model: any Classifier, samples: Int = 1) -> Tensor {
  var total: Tensor?
  for _ in 0..<Swift.max(samples, 1) {
    let g = model.inputGradient(x) { logits, rows in criterion.subset(Array(rows)).attackLoss(logits: logits) }
    total = withoutGradients { total.map { $0 + g } ?? g }
  }
  return samples > 1 ? withoutGradients { total! * (1 / Float(samples)) } : total!
}

/// The steepest-ascent direction of a gradient in `norm`: `sign(g)` for L∞ (sign(0) = 0),
/// `g/‖g‖₂` per example for L2 (zero for a zero gradient).
func steepestDirection(_ g: Tensor, norm: Norm) -> Tensor {
  withoutGradients {
    switch norm {
    case .lInfinity: return g.sign()
    case .l2:
      return g.scaledPerExample(g.l2NormPerSample().scalars.map { $0 > 0 ? 1 / $0 : 0 })
    }
  }
}
