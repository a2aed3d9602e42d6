import PixelTensor

/// The threat-model checks every runner makes on each batch: the largest change off the mask
/// (must be exactly 0) and whether every adversarial pixel stayed in bounds.
struct PerturbationAudit {
  let bounds: ClosedRange<Float>
  let offMask: Tensor?
  /// Largest |x_adv − x| on pixels off the mask.
  private(set) var maxOffMaskChange = 0.0
  /// Whether every adversarial pixel so far lay in `bounds`.
  private(set) var withinBounds = true
  /// The fraction of pixels the mask lets change (1 without a mask).
  let maskFraction: Double

  init(mask: Tensor?, bounds: ClosedRange<Float>) {
    self.bounds = bounds
    offMask = mask.map { m in withoutGradients { 1 - m } }
    maskFraction = mask.map { Double($0.sum().item) / Double($0.elementCount) } ?? 1
  }

  /// Checks one batch's perturbation `delta = adversarial − clean`.
  mutating func record(delta: Tensor, adversarial: Tensor) {
    withoutGradients {
      if let offMask { maxOffMaskChange = Swift.max(maxOffMaskChange, Double((delta * offMask).abs().max())) }
      if adversarial.min() < bounds.lowerBound || adversarial.max() > bounds.upperBound { withinBounds = false }
    }
  }
}
