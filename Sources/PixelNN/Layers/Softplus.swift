import PixelTensor

/// `log(1 + eˣ)`: a smooth ReLU whose input Hessian is not zero almost everywhere.
public final class Softplus: Layer {
  public var mode: Mode = .training
  public var isSamplewise: Bool { true }
  /// The softplus, `log(1 + eˣ)`.
  public init() {}
  public func callAsFunction(_ x: Tensor) -> Tensor { x.softplus() }
}
