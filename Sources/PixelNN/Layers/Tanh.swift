import PixelTensor

/// Elementwise hyperbolic tangent.
public final class Tanh: Layer {
  public var mode: Mode = .training
  /// The hyperbolic tangent.
  public init() {}
  public func callAsFunction(_ x: Tensor) -> Tensor { x.tanh() }
}
