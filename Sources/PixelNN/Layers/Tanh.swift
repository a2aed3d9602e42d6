import PixelTensor

/// Elementwise hyperbolic tangent.
public final class Tanh: Layer {
  public var mode: Mode = .training
  public var isSamplewise: Bool { true }
  /// The hyperbolic tangent.
  public init() {}
  public func callAsFunction(_ x: Tensor) -> Tensor { x.tanh() }
}
