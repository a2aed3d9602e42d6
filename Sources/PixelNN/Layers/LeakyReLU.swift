import PixelTensor

/// `x` for positive inputs, `slope · x` otherwise.
public final class LeakyReLU: Layer {
  public var mode: Mode = .training
  public var isSamplewise: Bool { true }
  public let slope: Float
  /// `max(x, slope·x)`.
  public init(slope: Float = 0.01) { self.slope = slope }
  public func callAsFunction(_ x: Tensor) -> Tensor { x.leakyReLU(slope: slope) }
}
