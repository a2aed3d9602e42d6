import PixelTensor

/// `max(x, 0)`; the subgradient at 0 is 0.
public final class ReLU: Layer {
  public var mode: Mode = .training
  public var isSamplewise: Bool { true }
  /// The ReLU, `max(x, 0)`.
  public init() {}
  public func callAsFunction(_ x: Tensor) -> Tensor { x.relu() }
}
