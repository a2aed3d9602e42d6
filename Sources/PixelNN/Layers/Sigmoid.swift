import PixelTensor

/// Elementwise logistic sigmoid.
public final class Sigmoid: Layer {
  public var mode: Mode = .training
  public var isSamplewise: Bool { true }
  /// The logistic sigmoid, `1 / (1 + e⁻ˣ)`.
  public init() {}
  public func callAsFunction(_ x: Tensor) -> Tensor { x.sigmoid() }
}
